# shellcheck shell=sh
# Sourced by ./mvnw, ./imgmatch and .ci/run: makes JAVA_HOME point at a JDK >= 21.
# Order: an explicit IMGMATCH_JAVA_HOME, the current JAVA_HOME, `java` on PATH, then JDKs installed
# in the usual places (/usr/lib/jvm, /usr/local/lib/jvm, /opt/java, ~/.sdkman, ~/.jdks), newest first.
# Fails with a message naming what it needs when none is found.

imgmatch_java_min=21

# prints the feature version (17, 21, 25...) of the JDK at $1, or nothing
imgmatch_jdk_version() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" | head -n 1
  else
    "$1/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
  fi
}

imgmatch_find_jdk() {
  for cand in "${IMGMATCH_JAVA_HOME:-}" "${JAVA_HOME:-}"; do
    [ -n "$cand" ] || continue
    v=$(imgmatch_jdk_version "$cand")
    if [ -n "$v" ] && [ "$v" -ge "$imgmatch_java_min" ]; then echo "$cand"; return 0; fi
  done
  if [ -z "${IMGMATCH_JDK_SEARCH_PATH:-}" ] && command -v java >/dev/null 2>&1; then
    cand=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.home = //p' | head -n 1)
    v=$(imgmatch_jdk_version "$cand")
    if [ -n "$v" ] && [ "$v" -ge "$imgmatch_java_min" ]; then echo "$cand"; return 0; fi
  fi
  best=""; bestv=0
  # IMGMATCH_JDK_SEARCH_PATH (space-separated globs) replaces the usual places; tests use it
  for cand in ${IMGMATCH_JDK_SEARCH_PATH:-/usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/* /opt/jdk* $HOME/.sdkman/candidates/java/* $HOME/.jdks/*}; do
    [ -d "$cand" ] || continue
    v=$(imgmatch_jdk_version "$cand")
    if [ -n "$v" ] && [ "$v" -ge "$imgmatch_java_min" ] && [ "$v" -gt "$bestv" ]; then best=$cand; bestv=$v; fi
  done
  [ -n "$best" ] && echo "$best"
  return 0
}

imgmatch_jdk=$(imgmatch_find_jdk)
if [ -z "$imgmatch_jdk" ]; then
  echo "imgmatch: no JDK $imgmatch_java_min or newer found (looked at IMGMATCH_JAVA_HOME, JAVA_HOME, java on PATH, /usr/lib/jvm, ~/.sdkman, ~/.jdks)." >&2
  echo "imgmatch: install one (e.g. Temurin 21 or 25, or Debian's openjdk-21-jdk) or set IMGMATCH_JAVA_HOME to it." >&2
  exit 1
fi
JAVA_HOME=$imgmatch_jdk
IMGMATCH_JDK_FEATURE=$(imgmatch_jdk_version "$imgmatch_jdk")
export JAVA_HOME IMGMATCH_JDK_FEATURE
