"""Test support: a real Mosquitto and helpers shared by the tests."""
