"""The station: NFC taps become signed opinions in a durable outbox, published over MQTT."""
