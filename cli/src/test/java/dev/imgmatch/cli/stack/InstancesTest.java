package dev.imgmatch.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class InstancesTest {
  @Test
  void servicesLeftOutKeepOneInstance() {
    assertThat(Instances.parse("index=3,embedder=2,ingest=2")).isEqualTo(new Instances(3, 2, 2));
    assertThat(Instances.parse(" index = 3 ")).isEqualTo(new Instances(3, 1, 1));
    assertThat(Instances.parse("ingest=2,index=1")).isEqualTo(new Instances(1, 1, 2));
    assertThat(Instances.parse("index=3,embedder=2,ingest=2")).hasToString("index=3,embedder=2,ingest=2");
  }

  @Test
  void oneOfEachRunsInProcessAnythingMoreAsProcesses() {
    assertThat(Instances.ONE.inProcess()).isTrue();
    assertThat(Instances.parse("index=1,embedder=1,ingest=1").inProcess()).isTrue();
    assertThat(Instances.parse("embedder=2").inProcess()).isFalse();
    assertThat(Instances.parse("index=3,embedder=2").max()).isEqualTo(3);
  }

  @Test
  void badSyntaxSaysWhatIsWrongAndWhatIsExpected() {
    assertThatThrownBy(() -> Instances.parse("index3")).hasMessageContaining("index3")
        .hasMessageContaining("SERVICE=N");
    assertThatThrownBy(() -> Instances.parse("")).hasMessageContaining("SERVICE=N");
    assertThatThrownBy(() -> Instances.parse("idx=2")).hasMessageContaining("unknown service 'idx'");
    assertThatThrownBy(() -> Instances.parse("index=two")).hasMessageContaining("'two'");
    assertThatThrownBy(() -> Instances.parse("index=0")).hasMessageContaining("index=0").hasMessageContaining("1 to 16");
    assertThatThrownBy(() -> Instances.parse("index=17")).hasMessageContaining("1 to 16");
    assertThatThrownBy(() -> Instances.parse("index=2,index=3")).hasMessageContaining("twice");
    assertThatThrownBy(() -> Instances.parse("index=2,")).hasMessageContaining("SERVICE=N");
  }

  @Test
  void upAndEvalRefuseBadSyntaxAsAUsageError() {
    for (List<String> args : List.of(List.of("up", "--instances", "index=x"),
        List.of("eval", "--refs", "r", "--queries", "q", "--out", "o.csv", "--instances", "indx=2"))) {
      CommandLine cl = Main.commandLine();
      StringWriter err = new StringWriter();
      cl.setErr(new PrintWriter(err));
      cl.setOut(new PrintWriter(new StringWriter()));
      assertThat(cl.execute(args.toArray(String[]::new))).as(args.toString()).isEqualTo(2);
      assertThat(err.toString()).as(args.toString()).contains("--instances");
    }
  }

  @Test
  void childrenGetThisJvmsOptionsButNoDebuggerAgentOrLoggingConfiguration() {
    List<String> in = List.of("-Xmx2g", "--add-modules=jdk.incubator.vector", "-Dai.djl.offline=true",
        "-agentlib:jdwp=transport=dt_socket,server=y,address=5005", "-javaagent:/x/jacoco.jar=destfile=a.exec",
        "-Dlogback.configurationFile=/tmp/l.xml", "--sun-misc-unsafe-memory-access=allow", "-XX:+UseG1GC",
        "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-Dimgmatch.home=/repo");
    assertThat(ServiceProcess.jvmOptions(in)).containsExactly("-Xmx2g", "--add-modules=jdk.incubator.vector",
        "-Dai.djl.offline=true", "--sun-misc-unsafe-memory-access=allow", "-XX:+UseG1GC", "--add-opens",
        "java.base/java.lang=ALL-UNNAMED", "-Dimgmatch.home=/repo");
    assertThat(ServiceProcess.withoutVectorModule(List.of("-Xmx1g", "--add-modules", "jdk.incubator.vector",
        "--add-modules=jdk.incubator.vector", "-Da=b"))).containsExactly("-Xmx1g", "-Da=b");
  }
}
