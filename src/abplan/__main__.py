from abplan.cli import main

main()
