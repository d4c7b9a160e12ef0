#!@busybox@/bin/busybox sh
# quotes @version@: answers GET /quotes/N on $PORT (default 3000) with quote N from Redis at
# $REDIS_HOST:$REDIS_PORT. busybox nc accepts each connection and runs the handler on it.
port="${PORT:-3000}"
echo "quotes @version@ listening on port $port, reading Redis at ${REDIS_HOST:-127.0.0.1}:${REDIS_PORT:-6379}"
exec @busybox@/bin/busybox nc -ll -p "$port" -e @out@/libexec/quotes-handler
