package io.nlpstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.faults.SoakRun;
import io.nlpstream.faults.Tally;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code nlpstream soak}: the fault scenario of {@link SoakRun} for a given number of minutes, then
 * the counts as a table and one JSON line on stdout (progress goes to stderr). Exit 0 when nothing
 * was lost, duplicated (under exactly_once_v2) or misplaced and the service never stopped by
 * itself; 1 otherwise.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
    description = {"Soak test under faults: embedded broker, the enrichment service as a child process, continuous"
        + " input (valid, invalid and routed events) for --minutes, with alternately a kill -9 of the service"
        + " (restarted at once) and a broker stop/start every --fault-every seconds. Then counts every output by"
        + " event id (read_committed) and prints sent, enriched, dlq, routed, lost, duplicated as a table and a"
        + " JSON line. Exit 1 if anything was lost or duplicated."})
final class SoakCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Option(names = "--minutes", paramLabel = "N", defaultValue = "10",
      description = "How long input flows and faults are injected (default: ${DEFAULT-VALUE}); the drain comes after.")
  double minutes;

  @Option(names = "--rate", paramLabel = "EVENTS_PER_S", defaultValue = "10",
      description = "Input events per second (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--fault-every", paramLabel = "SECONDS", defaultValue = "30",
      description = "Seconds between the recovery from one fault and the next fault (default: ${DEFAULT-VALUE}).")
  long faultEverySeconds;

  @Option(names = "--outage", paramLabel = "SECONDS", defaultValue = "30",
      description = "How long the broker stays stopped in a broker fault (default: ${DEFAULT-VALUE}).")
  long outageSeconds;

  @Option(names = "--partitions", paramLabel = "N", defaultValue = "2",
      description = "Partitions of the input topic (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(names = "--drain-timeout", paramLabel = "SECONDS", defaultValue = "300",
      description = "How long to wait for the last outputs once the input stops (default: ${DEFAULT-VALUE}).")
  long drainSeconds;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "soak-out",
      description = "Where each run writes run-<id>/: the broker data and the logs of every service incarnation"
          + " (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "A configuration key of the service under test (e.g. processing.guarantee=at_least_once,"
          + " batch.max.wait.ms=500). Repeatable. Secrets are refused.")
  Map<String, String> serviceSettings = new LinkedHashMap<>();

  @Override
  public Integer call() {
    ConfigOptions.checkNoSecretValues(serviceSettings);
    // Refuse an unknown key or a bad value now, by name, rather than when the service fails to start.
    NlpstreamConfig.of(serviceSettings);
    if (!(minutes > 0) || faultEverySeconds < 1 || outageSeconds < 0 || drainSeconds < 1) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--minutes must be > 0, --fault-every and --drain-timeout >= 1, --outage >= 0");
    }
    PrintWriter err = spec.commandLine().getErr();
    SoakRun.Result result = SoakRun.run(new SoakRun.Options(Duration.ofMillis((long) (minutes * 60_000)), rate,
        Duration.ofSeconds(faultEverySeconds), Duration.ofSeconds(outageSeconds), partitions,
        Duration.ofSeconds(drainSeconds), out, serviceSettings), err);

    PrintWriter stdout = spec.commandLine().getOut();
    Tally tally = result.tally();
    Table table = new Table("output", "topic", "expected", "received", "lost", "duplicated", "unexpected");
    for (Tally.OutputCount o : tally.outputs()) {
      table.row(o.output(), o.topic(), Long.toString(o.expected()), Long.toString(o.received()),
          Long.toString(o.lost()), Long.toString(o.duplicated()), Long.toString(o.unexpected()));
    }
    stdout.printf("soak: %s, %d events sent, %d kill -9 of the service, %d broker outage(s), %d unplanned exit(s),"
            + " clean stop: %s%n", minutesAndSeconds(result.elapsed()), tally.sent(), result.serviceKills(),
        result.brokerOutages(), result.unplannedExits(), result.cleanStop() ? "yes" : "no");
    table.print(stdout);

    ObjectNode json = JSON.createObjectNode();
    json.put("minutes", minutes);
    tally.summary().forEach(json::put);
    json.put("service_kills", result.serviceKills());
    json.put("broker_outages", result.brokerOutages());
    json.put("unplanned_exits", result.unplannedExits());
    json.put("clean_stop", result.cleanStop());
    json.put("exactly_once", result.exactlyOnce());
    json.put("passed", result.passed());
    stdout.println(json);
    stdout.flush();
    return result.passed() ? 0 : 1;
  }

  private static String minutesAndSeconds(Duration d) {
    long s = d.toSeconds();
    return String.format(java.util.Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
