# SPDX-License-Identifier: GPL-2.0
"""What the guest's init says on its test port, and how the host reads it.

The test port (ttyS1, or the console for a LAVA job) speaks KTAP the way
kselftest's run_kselftest.sh does: one top-level plan, one result line
per test of the plan, and every line the test printed indented as a
diagnostic:

    TAP version 13
    1..3
    # MMWB-BOOT 4.2
    # selftests: mm: cow
    # MMWB-BEGIN cow
    # TAP version 13
    # 1..120
    # ok 1 ...
    # MMWB-END cow rc=0 secs=61.2
    ok 1 selftests: mm: cow
    # selftests: mm: hmm-tests
    ...
    not ok 2 selftests: mm: hmm-tests # TIMEOUT 300 seconds
    ...
    # MMWB-DONE

so that kunit.py parse, LAVA and the KernelCI tools read it as they read
run_kselftest.sh.  The port is a pipe now, not a tty: a program that
does not ask for line buffering (kselftest.h's ksft_print_header()
does, and the workbench's own guest tools) keeps up to 4 KiB of its
output in stdio's buffer, lost if the watchdog kills it; the plan runs
none such today (mremap_test, uffd-wp-mremap would be).

The init's markers stay, as diagnostic lines, for the workbench's own
reader: a test's output between MMWB-BEGIN and MMWB-END,
'MMWB-RETRY <test> rc=N' between the runs of a test the plan retries,
and for a test past its timeout 'MMWB-TIMEOUT <test> secs=N', then one
'MMWB-HUNG pid=.. state=.. wchan=.. <command>' line per process of the
test, each of its threads with state, wchan, system call and CPU ticks,
and its kernel stack, then the kill.  The framing is done in the guest
by one awk process (FRAMER) that reads everything the init and the
tests write to the port; the result line of a test comes from its END
marker (rc 0: ok, 4: ok # SKIP, a timeout: not ok # TIMEOUT, else not ok
# exit=rc, as run_kselftest.sh's runner).  lines() reads it back, and
also reads a test port of the earlier, unframed kind (the recorded
guest folders of tools/mmwb/tests/test_data)."""

import re

BEGIN, END, DONE, BOOT = 'MMWB-BEGIN', 'MMWB-END', 'MMWB-DONE', 'MMWB-BOOT'
RETRY = 'MMWB-RETRY'
TIMEOUT, HUNG = 'MMWB-TIMEOUT', 'MMWB-HUNG'
SETUP_FAILED = 'MMWB-SETUP-FAILED'
MARKERS = (BOOT, BEGIN, END, RETRY, TIMEOUT, DONE)
# The exit status of a test whose binary the initramfs does not have.
MISSING_RC = 127
HEADER = 'selftests: mm: '

_MARK = '|'.join(MARKERS)

# The awk program that frames the test port (busybox awk, POSIX: no
# \\b).  A marker behind a killed test's partial line starts a line of
# its own, as the host's reader has always split it.
FRAMER = r'''BEGIN { print "TAP version 13"; print "1.." n; fflush() }
function result(l,   w, k, i, rc, hdr) {
  k = split(l, w, " ")
  rc = ""
  for (i = 3; i <= k; i++) if (w[i] ~ /^rc=/) rc = substr(w[i], 4)
  hdr = num " %(header)s" w[2]
  if (timeout != "") print "not ok " hdr " # TIMEOUT " timeout " seconds"
  else if (rc == "0") print "ok " hdr
  else if (rc == "4") print "ok " hdr " # SKIP"
  else print "not ok " hdr " # exit=" rc
}
function line(l,   w) {
  if (l !~ /^(%(marks)s)/) { print "# " l; return }
  split(l, w, " ")
  if (w[1] == "%(begin)s") {
    num++; timeout = ""
    print "# %(header)s" w[2]
  }
  print "# " l
  if (w[1] == "%(retry)s") timeout = ""
  if (w[1] == "%(timeout)s") { timeout = w[3]; sub(/^secs=/, "", timeout) }
  if (w[1] == "%(end)s") result(l)
}
{
  l = $0
  while (match(substr(l, 2), /(%(marks)s)/)) {
    line(substr(l, 1, RSTART))
    l = substr(l, RSTART + 1)
  }
  line(l)
  fflush()
}''' % {'header': HEADER, 'marks': _MARK, 'begin': BEGIN, 'end': END,
        'retry': RETRY, 'timeout': TIMEOUT}

_MARKER = re.compile(rf'({_MARK})\b')
_FRAME = re.compile(rf'^(TAP version \d+|1\.\.\d+|# {re.escape(HEADER)}\S+|'
                    rf'(not )?ok \d+ {re.escape(HEADER)}.*)$')
_FRAMED = re.compile(rf'^# ({_MARK}) ', re.M)


def framed(text):
    """The test port as FRAMER writes it (else: the earlier kind)."""
    return bool(_FRAMED.search(text))


def lines(text):
    """The test port's lines as the init wrote them: the framing gone
    (the top-level plan and result lines, the test headers, one '# '),
    and a marker always at the start of its own line (a test killed in
    the middle of a line leaves the init's next marker behind its
    partial output).  Lines a kernel wrote into a console port between
    the framed ones stay as they are."""
    ktap = framed(text)
    for line in text.splitlines():
        line = line.rstrip('\r')
        if ktap:
            if _FRAME.match(line):
                continue
            if line.startswith('# ') or line == '#':
                line = line[2:]
        m = _MARKER.search(line, 1)
        while m:
            yield line[:m.start()]
            line = line[m.start():]
            m = _MARKER.search(line, 1)
        yield line


def parse_testlog(text):
    """{test: (rc, secs, output)}, boot seconds and whether init finished."""
    outs = {}
    cur, buf = None, []
    boot, done = None, False
    for line in lines(text):
        if line.startswith(BOOT + ' '):
            try:
                boot = float(line.split()[1])
            except (IndexError, ValueError):
                pass
        elif line.startswith(BEGIN + ' '):
            cur, buf = line.split()[1], []
        elif line.startswith(END + ' ') and cur:
            f = dict(w.split('=', 1) for w in line.split()[2:] if '=' in w)
            outs[cur] = (int(f.get('rc', -1)), float(f.get('secs', 0) or 0),
                         '\n'.join(buf))
            cur = None
        elif line == DONE:
            done = True
        elif cur:
            buf.append(line)
    if cur:     # killed in the middle of a test
        outs[cur] = (None, None, '\n'.join(buf))
    return outs, boot, done


def missing(text):
    """The tests whose binary the init did not find."""
    return {line.split()[1] for line in lines(text)
            if line.startswith(END + ' ') and line.split()[2:] ==
            [f'rc={MISSING_RC}', 'secs=0', 'missing']}


def current_test(text):
    """What a guest is at, from its test port so far."""
    cur = 'booting'
    for line in lines(text):
        if line.startswith(BEGIN + ' '):
            cur = 'running ' + line.split()[1]
        elif line.startswith(DONE):
            cur = 'done'
    return cur
