#!/bin/sh
# Print the path of a Python 3.10 interpreter: $PYTHON if given, else python3.10 on PATH, else pyenv's.
# Rasa Open Source 3.6 installs only on Python 3.10, so nothing else will do.
is310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }

if [ -n "${PYTHON:-}" ]; then
  if is310 "$PYTHON"; then command -v "$PYTHON"; exit 0; fi
  echo "PYTHON=$PYTHON is not a working Python 3.10 interpreter." >&2; exit 1
fi
if is310 python3.10; then command -v python3.10; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
  for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -t. -k3 -n -r); do
    candidate="$(pyenv prefix "$version" 2>/dev/null)/bin/python3.10"
    if is310 "$candidate"; then echo "$candidate"; exit 0; fi
  done
fi
for candidate in /usr/bin/python3.10 /usr/local/bin/python3.10; do
  if is310 "$candidate"; then echo "$candidate"; exit 0; fi
done
cat >&2 <<MSG
No Python 3.10 interpreter found (Rasa Open Source 3.6 needs exactly 3.10).
Install one (for example 'pyenv install 3.10' or your system's python3.10 package),
or point to it: make PYTHON=/path/to/python3.10 <target>
MSG
exit 1
