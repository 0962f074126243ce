#!/usr/bin/env bash
# `npm start` from a mode-700 directory (as root's home is), checked through /healthz and a
# clean SIGTERM stop: exit 0 and no PostgreSQL left behind. Runs only as root (as CI does).
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "start-as-root-private: not root, skipped by design of this check"; exit 0; }
src=$(pwd)
priv=$(mktemp -d /root/chakushin-private.XXXXXX)
chmod 700 "$priv"
# As root the database runs as its own user, which cannot reach a mode-700 folder: its data
# then lives under /var/lib/chakushin/<hash of the data path> (src/store/postgres-runtime.ts).
relocated=/var/lib/chakushin/$(printf %s "$priv/var/pgdata" | sha256sum | cut -c1-16)
pid=
cleanup() {
  set +e
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  for p in $(pgrep -f "src/cli/bin.mjs start"); do
    case "$(readlink "/proc/$p/cwd")" in "$priv"*) kill -9 "$p" 2>/dev/null;; esac
  done
  [ -f "$relocated/pgdata/postmaster.pid" ] && kill -9 "$(head -1 "$relocated/pgdata/postmaster.pid")" 2>/dev/null
  rm -rf "$priv" "$relocated"
}
trap cleanup EXIT
tar -C "$src" --exclude=./var -cf - . | tar -C "$priv" -xf -
cd "$priv"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export HTTP_LISTEN=127.0.0.1:$(port) SIP_LISTEN=127.0.0.1:$(port) ENGINE_ADMIN=127.0.0.1:$(port) \
  EMBEDDED_PG_PORT=$(port) SMTP_CATCHER_LISTEN=127.0.0.1:$(port) SITE_LISTEN=127.0.0.1:$(port) RTP_PORT_RANGE=0-0
npm start >"$priv/start.log" 2>&1 &
pid=$!
ok=
for _ in $(seq 1 120); do
  if curl -fsS "http://$HTTP_LISTEN/healthz" >/dev/null 2>&1; then ok=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$ok" ]; then echo "start-as-root-private: /healthz never answered"; cat "$priv/start.log"; kill "$pid" 2>/dev/null || true; exit 1; fi
# npm runs node as a child: signal the service itself, as a process manager would.
svc=
for p in $(pgrep -f "src/cli/bin.mjs start"); do
  [ "$(readlink "/proc/$p/cwd")" = "$priv" ] && svc=$p
done
[ -n "$svc" ] || { echo "start-as-root-private: service process not found"; exit 1; }
db=$(pgrep -P "$svc" -x postgres || true)
[ -n "$db" ] || { echo "start-as-root-private: no embedded PostgreSQL under the service"; exit 1; }
kill -TERM "$svc"
rc=0; wait "$pid" || rc=$?
if [ "$rc" -ne 0 ]; then echo "start-as-root-private: npm start exited $rc after SIGTERM"; cat "$priv/start.log"; exit 1; fi
if kill -0 $db 2>/dev/null; then
  echo "start-as-root-private: PostgreSQL still running after the stop"; exit 1
fi
echo "start-as-root-private: /healthz 200 from a mode-700 checkout as root, SIGTERM → exit 0, database stopped"
