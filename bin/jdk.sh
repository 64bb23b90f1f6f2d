# Sourced by bin/colo4j and bin/test: finds a JDK >= 25 and exports JAVA_HOME, or fails clearly.
colo4j_find_jdk() {
  local candidate version
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    version=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ -n "$version" ] && [ "${version%%.*}" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  echo "colo4j: no JDK >= 25 found (tried \$JAVA_HOME='${JAVA_HOME:-}' and /usr/lib/jvm/temurin-25-jdk-amd64)." >&2
  echo "colo4j: install Temurin 25 or point JAVA_HOME at a JDK 25." >&2
  return 1
}
# The Java heap's young generation, fixed in size (-Xmn: ParallelGC does not grow or shrink it). Tensors live off-heap,
# so the heap holds small, short-lived objects; but a run's first step (code not yet compiled by C2) makes gigabytes of
# garbage, and with an adaptive young generation ParallelGC grew eden to ~2 GB for it. The later steps' far smaller
# garbage then reached eden's never-touched pages one or more steps later: ~120k page faults (~470 MB) and 15% kernel
# time in step 2 (or 4) of GPT-2 small at tp 1. A young generation the first step fills in full faults nothing after it.
# Override with COLO4J_YOUNG_GEN (a -Xmn size), or -Xmn in COLO4J_JAVA_OPTS.
COLO4J_YOUNG_GEN="${COLO4J_YOUNG_GEN:-256m}"
COLO4J_JVM_FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmn$COLO4J_YOUNG_GEN"
