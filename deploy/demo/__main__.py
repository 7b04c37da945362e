"""``python -m deploy.demo``."""

from deploy.demo.main import main

main()
