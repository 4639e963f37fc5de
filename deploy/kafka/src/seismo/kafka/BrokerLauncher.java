package seismo.kafka;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * Starts one Kafka broker (KRaft, broker and controller in one JVM) for tests and local runs, and
 * ties its life to the process that started it.
 *
 * <pre>java -cp 'lib/VERSION/*' seismo.kafka.BrokerLauncher server.properties CLUSTER_ID</pre>
 *
 * <ol>
 *   <li>Halts the JVM as soon as stdin reaches end of file. The owner (a Node test process) keeps
 *       the write end of that pipe, and the kernel closes it however the owner ends: a clean exit,
 *       an uncaught exception, SIGKILL, a Jest worker torn down. Signals cannot promise that (a
 *       SIGKILLed owner sends nothing, its 'exit' handlers never run), and PR_SET_PDEATHSIG is
 *       Linux-only and fires when the spawning thread ends rather than the process.
 *   <li>Formats the storage in this JVM (what bin/kafka-storage.sh format does), which saves
 *       starting a second JVM before every broker: 1.5 to 2.5 s on a small machine. Storage
 *       already formatted is kept, so a persistent data directory can be restarted.
 *   <li>Runs kafka.Kafka, as bin/kafka-server-start.sh does.
 * </ol>
 *
 * Kafka's classes are reached by reflection, so this file compiles without them and serves 3.9 and
 * 4.x alike. From a terminal, Ctrl-D stops the broker; with stdin from /dev/null it halts at once.
 */
public final class BrokerLauncher {
  /** Distinct from Kafka's own exit codes (0, 1), so a log reader can tell who stopped the JVM. */
  private static final int OWNER_GONE_EXIT_CODE = 3;

  private BrokerLauncher() {}

  public static void main(String[] args) throws Throwable {
    if (args.length != 2) {
      System.err.println("usage: seismo.kafka.BrokerLauncher <server.properties> <cluster-id>");
      System.exit(2);
    }
    String serverProperties = args[0];
    String clusterId = args[1];

    Thread watchdog = new Thread(BrokerLauncher::haltWhenStdinCloses, "seismo-owner-watchdog");
    // A daemon, so that it never keeps the JVM alive after the broker has shut down by itself.
    watchdog.setDaemon(true);
    watchdog.start();

    Method format = Class.forName("kafka.tools.StorageTool").getMethod("execute", String[].class, PrintStream.class);
    String[] formatArgs = {"format", "-t", clusterId, "-c", serverProperties, "--ignore-formatted"};
    Object status = call(format, formatArgs, System.out);
    if (!Integer.valueOf(0).equals(status)) {
      System.err.println("[seismo] formatting the storage failed with status " + status);
      System.exit(1);
    }
    Method kafka = Class.forName("kafka.Kafka").getMethod("main", String[].class);
    call(kafka, (Object) new String[] {serverProperties});
  }

  private static Object call(Method staticMethod, Object... args) throws Throwable {
    try {
      return staticMethod.invoke(null, args);
    } catch (InvocationTargetException e) {
      // StorageTool reports a bad configuration by throwing (TerseFailure): show that, not our frame.
      throw e.getCause();
    }
  }

  private static void haltWhenStdinCloses() {
    InputStream in = System.in;
    byte[] ignored = new byte[64];
    try {
      while (in.read(ignored) >= 0) {
        // The owner sends nothing on this channel; only its closing matters.
      }
    } catch (IOException e) {
      // An unreadable stdin means the owner is gone as surely as end of file does.
    }
    System.err.println("[seismo] stdin closed: the process that started this broker is gone; halting");
    System.err.flush();
    // halt, not exit: skip Kafka's controlled shutdown. Nobody is left to wait for it, a test
    // broker's data is throwaway, and it can take seconds.
    Runtime.getRuntime().halt(OWNER_GONE_EXIT_CODE);
  }
}
