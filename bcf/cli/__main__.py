from bcf.cli.main import entry

entry()
