#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, broker + controller in one JVM) on loopback.
#
#   test/kafka/kafka.sh up      fetch the jars with Maven (cached), format a fresh data dir, start, wait until it serves
#   test/kafka/kafka.sh stop    stop the broker, keep its data (for restart tests)
#   test/kafka/kafka.sh start   start it again on the same data
#   test/kafka/kafka.sh down    stop and delete the data
#   test/kafka/kafka.sh status  print "running <port> <version>" or "stopped"
#   test/kafka/kafka.sh tools   fetch kafka-tools (cached; ProducerPerformance, the bench's ceiling) and print the tools' classpath
#
# Env: KAFKA_PORT (9092), KAFKA_RUN_DIR (/tmp/tapedeck-kafka-$KAFKA_PORT), KAFKA_CACHE
# (~/.cache/tapedeck/kafka-<version>), KAFKA_VERSION (3.9.1).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION="${KAFKA_VERSION:-3.9.1}"
PORT="${KAFKA_PORT:-9092}"
CPORT=$((PORT + 1))
RUN="${KAFKA_RUN_DIR:-/tmp/tapedeck-kafka-$PORT}"
CACHE="${KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tapedeck/kafka-$VERSION}"
LIBS="$CACHE/libs"

SERVICE=kafka.sh WHAT=Kafka POM="$HERE/pom.xml" VERSION_PROPERTY=kafka.version PIDFILE="$RUN/kafka.pid"
# shellcheck source=../jvm-service.sh
. "$HERE/../jvm-service.sh"

write_config() {
  mkdir -p "$RUN/logs"
  cat > "$RUN/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$RUN/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
num.partitions=1
auto.create.topics.enable=true
log.cleaner.dedupe.buffer.size=16777216
PROPS
  cat > "$RUN/log4j.properties" <<'LOG'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
LOG
}

start() {
  alive && { echo "kafka.sh: already running on 127.0.0.1:$PORT" >&2; return 0; }
  port_open && die "port $PORT is taken by another process"
  : > "$RUN/logs/kafka.out"
  nohup java -Xms256m -Xmx512m -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$RUN/log4j.properties" -Dkafka.logs.dir="$RUN/logs" \
    -cp "$LIBS/*" kafka.Kafka "$RUN/server.properties" >> "$RUN/logs/kafka.out" 2>&1 &
  echo $! > "$RUN/kafka.pid"
  ready() { grep -q "Kafka Server started" "$RUN/logs/kafka.out" 2>/dev/null && port_open; }
  wait_ready "$RUN/logs/kafka.out" 90
  echo "kafka.sh: Apache Kafka $VERSION serving on 127.0.0.1:$PORT (started in $STARTED_IN s; log $RUN/logs/kafka.out)"
}

case "${1:-}" in
  up)
    need; fetch; stop; rm -rf "$RUN/data"; write_config
    java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$RUN/log4j.properties" \
      -cp "$LIBS/*" kafka.tools.StorageTool format -t 4L6g3nShT-eMCtK--X86sw -c "$RUN/server.properties" >> "$RUN/logs/format.out" 2>&1 \
      || { cat "$RUN/logs/format.out" >&2; die "formatting the data dir failed"; }
    start ;;
  start) need; [ -f "$RUN/server.properties" ] || die "no broker set up at $RUN: run 'up' first"; start ;;
  stop) stop; echo "kafka.sh: stopped (data kept in $RUN/data)" ;;
  down) stop; rm -rf "$RUN"; echo "kafka.sh: stopped and removed $RUN" ;;
  tools)
    need; fetch
    if [ ! -f "$CACHE/tools/kafka-tools-$VERSION.jar" ]; then
      mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy -Dartifact="org.apache.kafka:kafka-tools:$VERSION" \
        -DoutputDirectory="$CACHE/tools" >&2 || die "Maven could not fetch kafka-tools $VERSION"
    fi
    echo "$LIBS/*:$CACHE/tools/*" ;;
  status) if alive; then echo "running $PORT $VERSION"; else echo "stopped"; fi ;;
  *) die "usage: kafka.sh up|start|stop|down|status|tools" ;;
esac
