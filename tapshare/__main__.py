from tapshare.cli import main

main()
