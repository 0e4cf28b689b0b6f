from tapshare.cli import main

# Guarded: the hub's writer process is started with "spawn", which imports this module
# again in the new process.
if __name__ == "__main__":
    main()
