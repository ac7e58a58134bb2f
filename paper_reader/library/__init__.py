"""The notes repository: layout, index, hand edits, git, the lock.

May import: types, errors, files, writing.render (file names). store.py, the rule that keeps every
read and write inside the repository, imports only errors: files.py applies it to all of them."""
