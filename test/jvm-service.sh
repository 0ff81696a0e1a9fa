# Shared by test/kafka/kafka.sh and test/cassandra/cassandra.sh (sourced, not run): a Java
# server from Maven Central jars on loopback. The script sets SERVICE (its name in
# messages), WHAT (the server's name), POM, VERSION_PROPERTY, VERSION, LIBS, RUN, PORT and PIDFILE.

die() { echo "$SERVICE: $*" >&2; exit 1; }

need() {
  command -v java >/dev/null 2>&1 || die "Java is not installed ($WHAT needs Java 17): apt-get install openjdk-17-jre-headless"
  command -v mvn >/dev/null 2>&1 || [ -f "$LIBS/.complete" ] || die "Maven is not installed (needed once to fetch the $WHAT jars): apt-get install maven"
}

# The server's runtime classpath into $LIBS, once.
fetch() {
  [ -f "$LIBS/.complete" ] && return 0
  echo "$SERVICE: fetching Apache $WHAT $VERSION jars from Maven Central into $LIBS" >&2
  mkdir -p "$LIBS"
  mvn -B -q -f "$POM" -D"$VERSION_PROPERTY=$VERSION" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS" >&2 || die "Maven could not fetch the $WHAT jars"
  touch "$LIBS/.complete"
}

pid() { [ -f "$PIDFILE" ] && cat "$PIDFILE" || true; }
alive() { local p; p="$(pid)"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

# Waits until `ready` succeeds (its log line and the open port); $1: the log to show on failure, $2: seconds.
wait_ready() {
  local t0=$SECONDS
  until ready; do
    alive || { tail -30 "$1" >&2; die "$WHAT exited during startup (log: $1)"; }
    [ $((SECONDS - t0)) -gt "$2" ] && die "$WHAT did not start within $2 s (log: $1)"
    sleep 0.3
  done
  STARTED_IN=$((SECONDS - t0))
}

# SIGTERM, up to 30 s for the JVM's shutdown hooks, then SIGKILL.
stop() {
  local p; p="$(pid)"
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"
    for _ in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p"
  fi
  rm -f "$PIDFILE"
}
