"""``python -m greenlane …`` runs the ``greenlane`` command."""

from greenlane.webapp.cli import main

if __name__ == "__main__":
    main()
