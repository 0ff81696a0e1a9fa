#!/usr/bin/env bash
# A real single-node Apache Cassandra on loopback, from Maven Central jars (no Docker, no package).
#
#   test/cassandra/cassandra.sh up      fetch the jars with Maven (cached), fresh data dir, start, wait until CQL serves
#   test/cassandra/cassandra.sh stop    stop the node, keep its data (for restart tests)
#   test/cassandra/cassandra.sh start   start it again on the same data
#   test/cassandra/cassandra.sh down    stop and delete the data
#   test/cassandra/cassandra.sh status  print "running <port> <version>" or "stopped"
#
# Env: CASSANDRA_PORT (9042; the CQL port; storage uses CASSANDRA_PORT+1, JMX CASSANDRA_PORT+2),
# CASSANDRA_RUN_DIR (/tmp/tapedeck-cassandra-$CASSANDRA_PORT), CASSANDRA_CACHE
# (~/.cache/tapedeck/cassandra-<version>), CASSANDRA_VERSION (5.0.6), CASSANDRA_HEAP (512m).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION="${CASSANDRA_VERSION:-5.0.6}"
PORT="${CASSANDRA_PORT:-9042}"
SPORT=$((PORT + 1))
JPORT=$((PORT + 2))
HEAP="${CASSANDRA_HEAP:-512m}"
RUN="${CASSANDRA_RUN_DIR:-/tmp/tapedeck-cassandra-$PORT}"
CACHE="${CASSANDRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tapedeck/cassandra-$VERSION}"
LIBS="$CACHE/libs"

SERVICE=cassandra.sh WHAT=Cassandra POM="$HERE/pom.xml" VERSION_PROPERTY=cassandra.version PIDFILE="$RUN/cassandra.pid"
# shellcheck source=../jvm-service.sh
. "$HERE/../jvm-service.sh"

write_config() {
  mkdir -p "$RUN/logs" "$RUN/data"
  cat > "$RUN/cassandra.yaml" <<YAML
cluster_name: tapedeck-test
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
data_file_directories: [$RUN/data/data]
commitlog_directory: $RUN/data/commitlog
saved_caches_directory: $RUN/data/saved_caches
hints_directory: $RUN/data/hints
cdc_raw_directory: $RUN/data/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$SPORT"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: $SPORT
native_transport_port: $PORT
start_native_transport: true
endpoint_snitch: SimpleSnitch
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
# a test node: no waiting for a ring that will never grow, small memtables
auto_bootstrap: false
memtable_heap_space: 64MiB
YAML
  cat > "$RUN/logback.xml" <<LOG
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$RUN/logs/system.log</file>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
LOG
}

# Java 17's module openings Cassandra needs (its conf/jvm17-server.options).
OPENS=(
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
  --add-exports java.base/sun.nio.ch=ALL-UNNAMED --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED
  --add-opens java.base/java.util.concurrent=ALL-UNNAMED --add-opens java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED --add-opens java.base/java.net=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
)

start() {
  alive && { echo "cassandra.sh: already running on 127.0.0.1:$PORT" >&2; return 0; }
  port_open && die "port $PORT is taken by another process"
  : > "$RUN/logs/system.log"
  local jamm; jamm="$(ls "$LIBS"/jamm-*.jar | head -1)"
  nohup java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djdk.attach.allowAttachSelf=true \
    -Djava.net.preferIPv4Stack=true -Djava.awt.headless=true -javaagent:"$jamm" "${OPENS[@]}" \
    -Dcassandra.config="file://$RUN/cassandra.yaml" -Dcassandra-foreground=yes -Dcassandra.jmx.local.port="$JPORT" \
    -Dlogback.configurationFile="$RUN/logback.xml" -Dcassandra.storagedir="$RUN/data" -Dcassandra.logdir="$RUN/logs" \
    -cp "$LIBS/*" org.apache.cassandra.service.CassandraDaemon > "$RUN/logs/cassandra.out" 2>&1 &
  echo $! > "$RUN/cassandra.pid"
  ready() { grep -q "Starting listening for CQL clients" "$RUN/logs/system.log" 2>/dev/null && port_open; }
  wait_ready "$RUN/logs/system.log" 120
  echo "cassandra.sh: Apache Cassandra $VERSION serving CQL on 127.0.0.1:$PORT (started in $STARTED_IN s; log $RUN/logs/system.log)"
}

case "${1:-}" in
  up) need; fetch; ls "$LIBS"/jamm-*.jar >/dev/null 2>&1 || die "no jamm jar (the JVM agent Cassandra needs) among the jars in $LIBS"; stop; rm -rf "$RUN"; write_config; start ;;
  start) need; [ -f "$RUN/cassandra.yaml" ] || die "no node set up at $RUN: run 'up' first"; start ;;
  stop) stop; echo "cassandra.sh: stopped (data kept in $RUN/data)" ;;
  down) stop; rm -rf "$RUN"; echo "cassandra.sh: stopped and removed $RUN" ;;
  status) if alive; then echo "running $PORT $VERSION"; else echo "stopped"; fi ;;
  *) die "usage: cassandra.sh up|start|stop|down|status" ;;
esac
