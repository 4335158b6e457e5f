// A small test peer on Java I2P's streaming API (our own test code, compiled at test time
// against i2p.jar, mstreaming.jar and streaming.jar; see tests/java/test_java_embedded.py).
//
//   JavaPeer server HOST PORT COUNT         print DEST/NAME, echo COUNT streams (half-close on
//                                           EOF), then exit
//   JavaPeer client HOST PORT DEST SIZE     send SIZE pattern bytes, half-close, read the echo
//   JavaPeer sink HOST PORT DEST SIZE       read SIZE pattern bytes from DEST, then EOF
//                                           (a GOT line after the first read, per 256 KB
//                                           and after the last byte)
//   JavaPeer source HOST PORT DEST SIZE     send SIZE pattern bytes to DEST, half-close,
//                                           read to EOF, close (a STATS line every second
//                                           and after EOF)
//   JavaPeer ping HOST PORT DEST            streaming ping
//   JavaPeer resetter HOST PORT DEST        send 1000 bytes, wait for one byte back, RESET
//   JavaPeer resetee HOST PORT              print DEST/NAME, accept one stream, read until
//                                           the peer's RESET (OK 1) or EOF (ERR)
//
// Options beyond i2cp.tcp.host/port come from -Dpeer.KEY=VALUE system properties (none by
// default: Java's defaults are what is tested). DEST is a base64 Destination or a .i2p name.
// Output lines: "DEST <base64>", "NAME <b32 or b33>", "OK <bytes> <ms> [close errors]",
// "PING <true|false> <ms>", "ERR <why>", "GOT <bytes> <ms since connected>",
// "STATS <retransmissions> <packets> <window> <rtt ms>" (the connection's own counters:
// duplicate sends, distinct sequence numbers sent, its window and RTT). Java's duplicate
// count skips every packet's first resend (PacketQueue checks getNumSends() > 1 before
// incrementSends()): it counts third and later sends only.

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;

import net.i2p.crypto.Blinding;
import net.i2p.client.streaming.I2PServerSocket;
import net.i2p.client.streaming.I2PSocket;
import net.i2p.client.streaming.I2PSocketManager;
import net.i2p.client.streaming.I2PSocketManagerFactory;
import net.i2p.data.Destination;

public class JavaPeer {
    static byte patternAt(long i) {
        return (byte) (i % 251);
    }

    static I2PSocketManager manager(String host, int port) throws Exception {
        Properties opts = new Properties();
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("peer."))
                opts.setProperty(name.substring(5), System.getProperty(name));
        }
        I2PSocketManager mgr = I2PSocketManagerFactory.createManager(host, port, opts);
        if (mgr == null)
            throw new IllegalStateException("no socket manager (router unreachable?)");
        return mgr;
    }

    static Destination resolve(I2PSocketManager mgr, String text) throws Exception {
        if (text.endsWith(".i2p")) {
            Destination d = mgr.getSession().lookupDest(text, 10000);
            if (d == null)
                throw new IllegalStateException("lookup failed: " + text);
            return d;
        }
        return new Destination(text);
    }

    /** Closes whose MessageOutputStream.close() threw after a complete exchange (see echo). */
    static final java.util.concurrent.atomic.AtomicInteger closeErrors =
        new java.util.concurrent.atomic.AtomicInteger();

    /** Echo until EOF, then close our side. Every byte has been echoed and the peer's CLOSE
     *  seen by then; Java's close() still sometimes throws IOException("disconnected") (its
     *  wait for the ACK of our last packet races the connection's own clean disconnect when
     *  one ACK covers the last data and the CLOSE). That is counted, not a failure: the
     *  exchange itself is checked byte for byte by the other side. */
    static void echo(I2PSocket sock) throws Exception {
        InputStream in = sock.getInputStream();
        OutputStream out = sock.getOutputStream();
        byte[] buf = new byte[32768];
        int n;
        while ((n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
            out.flush();
        }
        try {
            out.close();
        } catch (java.io.IOException e) {
            if (!"disconnected".equals(e.getMessage()))
                throw e;
            closeErrors.incrementAndGet();
            e.printStackTrace();
        }
        sock.close();
    }

    static long readPattern(InputStream in, long expected) throws Exception {
        return readPattern(in, expected, -1);
    }

    /** Read and check the pattern to EOF; with {@code since >= 0} print a GOT line (bytes,
     *  ms since {@code since}) after the first read, every 256 KB and after the last byte. */
    static long readPattern(InputStream in, long expected, long since) throws Exception {
        byte[] buf = new byte[32768];
        long got = 0;
        long nextReport = 1;
        int n;
        while ((n = in.read(buf)) >= 0) {
            for (int i = 0; i < n; i++) {
                if (buf[i] != patternAt(got + i))
                    throw new IllegalStateException("byte " + (got + i) + " differs");
            }
            got += n;
            if (since >= 0 && (got >= nextReport || got == expected)) {
                System.out.println("GOT " + got + " " + (System.currentTimeMillis() - since));
                System.out.flush();
                nextReport = got + (1 << 18);
            }
        }
        if (got != expected)
            throw new IllegalStateException("got " + got + " of " + expected + " bytes");
        return got;
    }

    static void writePattern(OutputStream out, long size) throws Exception {
        byte[] buf = new byte[16384];
        long sent = 0;
        while (sent < size) {
            int n = (int) Math.min(buf.length, size - sent);
            for (int i = 0; i < n; i++)
                buf[i] = patternAt(sent + i);
            out.write(buf, 0, n);
            sent += n;
        }
        out.flush();
        out.close();
    }

    static Object call(Object target, String name) throws Exception {
        java.lang.reflect.Method m = target.getClass().getMethod(name);
        m.setAccessible(true);  // the streaming implementation's classes are package-private
        return m.invoke(target);
    }

    /** The STATS line of a socket of Java's streaming implementation (its Connection's
     *  counters, read by reflection: the public API has none), or "STATS -". */
    static String stats(I2PSocket sock) {
        try {
            java.lang.reflect.Method get = sock.getClass().getDeclaredMethod("getConnection");
            get.setAccessible(true);
            Object con = get.invoke(sock);
            Object opts = call(con, "getOptions");
            return "STATS " + call(con, "getLifetimeDupMessagesSent") + " "
                + ((Long) call(con, "getLastSendId") + 1) + " " + call(opts, "getWindowSize")
                + " " + call(opts, "getRTT");
        } catch (Exception e) {
            e.printStackTrace();
            return "STATS -";
        }
    }

    /** After the peer's CLOSE (EOF) and ours, the one thing left is our ACK of the peer's
     *  CLOSE, which Java sends within its ack delay (at most 500 ms); the peer's close()
     *  waits for it. Java offers no call that waits for it, so the side that saw EOF last
     *  lingers this long before destroying its session. */
    static final long LINGER_MS = 1000;

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        I2PSocketManager mgr = manager(args[1], Integer.parseInt(args[2]));
        int rc = 0;
        try {
            long start = System.currentTimeMillis();
            if (mode.equals("server")) {
                Destination me = mgr.getSession().getMyDestination();
                System.out.println("DEST " + me.toBase64());
                // an encrypted lease set is reached by its "b33" name, anything else by b32
                boolean blinded = "5".equals(System.getProperty("peer.i2cp.leaseSetType"));
                System.out.println("NAME " + (blinded ? Blinding.encode(me.getSigningPublicKey())
                                                      : me.toBase32()));
                System.out.flush();
                I2PServerSocket ss = mgr.getServerSocket();
                int count = Integer.parseInt(args[3]);
                Thread[] workers = new Thread[count];
                final AtomicReference<Exception> failure = new AtomicReference<>();
                for (int i = 0; i < count; i++) {
                    final I2PSocket sock = ss.accept();
                    workers[i] = new Thread(() -> {
                        try {
                            echo(sock);
                        } catch (Exception e) {
                            e.printStackTrace();
                            failure.compareAndSet(null, e);
                        }
                    });
                    workers[i].start();
                }
                for (Thread t : workers)
                    t.join();
                if (failure.get() != null)
                    throw failure.get();
                System.out.println("OK " + count + " " + (System.currentTimeMillis() - start)
                                   + " " + closeErrors.get());
            } else if (mode.equals("client")) {
                Destination dest = resolve(mgr, args[3]);
                final long size = Long.parseLong(args[4]);
                final I2PSocket sock = mgr.connect(dest);
                final AtomicReference<Exception> failure = new AtomicReference<>();
                Thread writer = new Thread(() -> {
                    try {
                        writePattern(sock.getOutputStream(), size);
                    } catch (Exception e) {
                        failure.compareAndSet(null, e);
                    }
                });
                writer.start();
                long got = readPattern(sock.getInputStream(), size);
                writer.join();
                if (failure.get() != null)
                    throw failure.get();
                sock.close();
                System.out.println("OK " + got + " " + (System.currentTimeMillis() - start));
            } else if (mode.equals("sink")) {
                Destination dest = resolve(mgr, args[3]);
                I2PSocket sock = mgr.connect(dest);
                long connected = System.currentTimeMillis();
                sock.getOutputStream().close();
                long got = readPattern(sock.getInputStream(), Long.parseLong(args[4]), connected);
                sock.close();
                System.out.println("OK " + got + " " + (System.currentTimeMillis() - start));
            } else if (mode.equals("source")) {
                Destination dest = resolve(mgr, args[3]);
                long size = Long.parseLong(args[4]);
                final I2PSocket sock = mgr.connect(dest);
                Thread reporter = new Thread(() -> {
                    try {
                        while (true) {
                            Thread.sleep(1000);
                            System.out.println(stats(sock));
                            System.out.flush();
                        }
                    } catch (InterruptedException e) {
                        // done
                    }
                });
                reporter.setDaemon(true);
                reporter.start();
                writePattern(sock.getOutputStream(), size);
                InputStream in = sock.getInputStream();
                while (in.read() >= 0) {
                }
                reporter.interrupt();
                reporter.join();
                System.out.println(stats(sock));
                sock.close();
                System.out.println("OK " + size + " " + (System.currentTimeMillis() - start));
            } else if (mode.equals("resetter")) {
                Destination dest = resolve(mgr, args[3]);
                I2PSocket sock = mgr.connect(dest);
                OutputStream out = sock.getOutputStream();
                out.write(new byte[1000]);
                out.flush();
                if (sock.getInputStream().read() < 0)
                    throw new IllegalStateException("EOF before the first byte");
                sock.reset();
                System.out.println("OK 1 " + (System.currentTimeMillis() - start));
            } else if (mode.equals("resetee")) {
                Destination me = mgr.getSession().getMyDestination();
                System.out.println("DEST " + me.toBase64());
                System.out.println("NAME " + me.toBase32());
                System.out.flush();
                I2PSocket sock = mgr.getServerSocket().accept();
                InputStream in = sock.getInputStream();
                sock.getOutputStream().write(1);
                sock.getOutputStream().flush();
                byte[] buf = new byte[4096];
                try {
                    while (in.read(buf) >= 0) {
                    }
                    throw new IllegalStateException("EOF instead of RESET");
                } catch (java.io.IOException e) {
                    System.out.println("OK 1 " + (System.currentTimeMillis() - start));
                }
            } else if (mode.equals("ping")) {
                Destination dest = resolve(mgr, args[3]);
                boolean ok = mgr.ping(dest, 10000);
                System.out.println("PING " + ok + " " + (System.currentTimeMillis() - start));
                rc = ok ? 0 : 1;
            } else {
                System.out.println("ERR unknown mode " + mode);
                rc = 2;
            }
        } catch (Exception e) {
            e.printStackTrace();
            System.out.println("ERR " + e);
            rc = 1;
        } finally {
            if (!mode.equals("server"))
                Thread.sleep(LINGER_MS);
            System.out.flush();
            mgr.destroySocketManager();
        }
        System.exit(rc);
    }
}
