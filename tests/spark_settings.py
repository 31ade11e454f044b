"""How the tests' local Spark sessions are tuned (the pytest session and the crash-test workers).

Tests run thousands of tiny Spark jobs, where compiling generated code and planning cost more than
the data: interpreted expressions, one shuffle partition, no adaptive re-planning and no Delta file
statistics make a test run about a third faster on a 2-core machine. Results do not depend on any
of these (a benchmark or a real run keeps Spark's defaults: `medallion.runtime.session`).
"""

from __future__ import annotations

TEST_SPARK_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.databricks.delta.snapshotPartitions": "1",
    "spark.databricks.delta.stats.collect": "false",
}
# Throughput collector: fewer GC threads competing with Spark's on two cores. A test JVM compiles
# ~135 MB of machine code over a run, most of the 240 MB default code cache: its sweeper then keeps
# flushing and the compiler recompiling (a third of a core seen in the C2 thread). With room to spare
# the suite ran in 589 s against 629-690 s the same morning (one run each, noisy machine).
TEST_JAVA_OPTIONS = "-XX:+UseParallelGC -XX:ReservedCodeCacheSize=512m"
