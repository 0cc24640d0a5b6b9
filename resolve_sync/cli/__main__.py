from resolve_sync.cli import main

main()
