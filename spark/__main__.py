from spark.cli import main

main()
