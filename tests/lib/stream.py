#!/usr/bin/python3
"""One TCP stream between two namespaces, checked end to end (integration tests).

  stream.py recv ADDR PORT OUT PROGRESS     accept one connection, read to EOF
  stream.py send ADDR PORT OUT STOPFILE RATE send until STOPFILE exists, RATE bytes/s

Both ends write "BYTES SHA256" to OUT when done; the receiver also keeps its byte
count current in PROGRESS (every 50 ms) so a caller can see the stream stall. The
sender's bytes are a seeded pseudo-random stream, the same in every run.
"""
import hashlib, os, random, socket, sys, time
role, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if role == "recv":
    out, progress = sys.argv[4], sys.argv[5]
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(1)
    c, _ = s.accept()
    h, n, last = hashlib.sha256(), 0, 0.0
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b); n += len(b)
        if time.monotonic() - last > 0.05:
            with open(progress + ".tmp", "w") as f: f.write("%d\n" % n)
            os.replace(progress + ".tmp", progress); last = time.monotonic()
    with open(progress + ".tmp", "w") as f: f.write("%d\n" % n)
    os.replace(progress + ".tmp", progress)
    open(out, "w").write("%d %s\n" % (n, h.hexdigest()))
else:
    out, stop, rate = sys.argv[4], sys.argv[5], float(sys.argv[6])
    c = socket.create_connection((addr, port), timeout=30)
    rnd, h, n, t0 = random.Random(1), hashlib.sha256(), 0, time.monotonic()
    while not os.path.exists(stop):
        b = rnd.randbytes(16384)
        c.sendall(b); h.update(b); n += len(b)
        ahead = n / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()
    open(out, "w").write("%d %s\n" % (n, h.hexdigest()))
