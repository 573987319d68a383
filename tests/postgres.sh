#!/bin/sh
# A PostgreSQL server for the state store's tests (`make postgres`, which `make test` runs): the
# one at $RELAIS_TEST_POSTGRES when set, else the machine's on 127.0.0.1:5432 when it answers,
# else Debian's `postgresql`, installed and started here (as root), trusting user postgres over
# local TCP: a server for tests, as `make browser` installs Chromium.
set -eu
[ -n "${RELAIS_TEST_POSTGRES:-}" ] && exit 0
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "make: the state store tests need PostgreSQL on 127.0.0.1:5432 (user postgres, trust): start one, or set RELAIS_TEST_POSTGRES" >&2
  exit 1
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -n | tail -1)
[ -d "/etc/postgresql/$version/main" ] || pg_createcluster "$version" main >/dev/null
hba="/etc/postgresql/$version/main/pg_hba.conf"
grep -q '^host all postgres 127.0.0.1/32 trust' "$hba" || sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
pg_ctlcluster "$version" main start 2>/dev/null || pg_ctlcluster "$version" main reload
for _ in $(seq 50); do
  pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
  sleep 0.2
done
echo "make: PostgreSQL $version did not start on 127.0.0.1:5432 (see /var/log/postgresql/)" >&2
exit 1
