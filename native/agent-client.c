/*
 * imageless-agent-client: the hop from bin/imageless-runc to the node agent (`imageless node agent`)
 * for runc create/exec/delete, so that no Node process starts per runc call (DESIGN.md, "The start
 * path must not pay for Node"). sh cannot open a unix socket; a static binary this small starts in
 * about a millisecond (bench/README.md).
 *
 *   imageless-agent-client SOCKET RUNC DISPATCHER RUNC-ARGV...
 *
 * 1. Prefilter (create only). Before any round trip, a create reads the bundle's config.json and
 *    execs RUNC directly when the spec cannot possibly concern the runtime: no spelling of the key
 *    `flox.dev/environment` anywhere in it, or the pause container's `"io.kubernetes.cri.container-type":
 *    "sandbox"` pair (see spec_needs_agent). This is a conservative prefilter, not a second policy: it
 *    only ever answers "certainly nothing to do"; anything else (the key in any spelling, a bundle it
 *    cannot find or read, an argv it does not fully understand) goes to the agent, which decides with
 *    src/pod/policy.ts as before. A false positive costs one round trip, never a wrong start.
 * 2. Sends the call as NUL-terminated fields ("C" cwd, "E" a forwarded variable, "A" each argument),
 *    closes its writing half, and reads the reply until the agent closes: first "ack" (the agent has
 *    the request and starts the work), then zero or more lines
 *      "out LINE"   a line for the container's log (runc create's stderr is the container's): print it;
 *    then one of
 *      "run"        the agent did its work (or reported a failed delete): exec RUNC with RUNC-ARGV;
 *      "fail MSG"   the agent wrote MSG to runc's --log already: print it and exit 1;
 *    any other answer (e.g. "other-config": the caller's IMAGELESS_CONFIG is not the agent's) goes back
 *    to the dispatcher, as below.
 * 3. When the agent cannot be reached, is not root, sends no "ack" within ACK_TIMEOUT_MS, or closes
 *    before its decision line, the call goes back to DISPATCHER with IMAGELESS_NO_AGENT=1, which does
 *    the work in-process (a pod never fails because the agent is down or hung).
 *    The bound is on the "ack" only, for all three commands, because without it nothing was done:
 *    the agent writes "ack" before any work and starts only if that write succeeds, and this client
 *    closes the socket before falling back, so an agent that wakes up later meets a closed socket and
 *    does nothing. (Left: an "ack" sent in the very instant of the timeout; create, exec and delete
 *    are each safe to repeat — an already-edited spec is left alone, a release is idempotent, an exec
 *    rewrite applied twice only repeats entries of PATH-like variables.) After the "ack" there is no
 *    bound of our own: a create may take minutes (a cold realisation) and the shim's own deadline
 *    applies, as it does to runc; the agent is working then, and a second, in-process, run beside it
 *    would be the unsafe choice.
 * The wire format is read by src/agent/agent-protocol.ts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Variables of the caller (containerd's environment) the agent must see as the wrapper would. */
static const char *const FORWARDED[] = {"FLOX_DISABLE_METRICS", "IMAGELESS_CONFIG", NULL};

/* How long an agent may take to acknowledge a call; IMAGELESS_AGENT_ACK_TIMEOUT_MS overrides it
   (tests). A live agent acknowledges in well under a millisecond: only a stopped or stuck one misses this. */
static const int ACK_TIMEOUT_MS = 5000;

/* A config.json larger than this is not read by the prefilter (it goes to the agent). */
#define MAX_SPEC_BYTES (4 << 20)

static int write_all(int fd, const char *data, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data += n;
    length -= (size_t)n;
  }
  return 0;
}

/* The request is built whole and sent with one write: the agent reads it in one wake-up rather
   than one per field (a field per write cost it ~6 event-loop turns per call). */
struct request {
  char *data;
  size_t used, size;
};

static int put_field(struct request *request, char tag, const char *value) {
  size_t length = strlen(value) + 2;
  if (request->used + length > request->size) {
    size_t size = (request->used + length) * 2;
    char *data = realloc(request->data, size);
    if (data == NULL) return -1;
    request->data = data;
    request->size = size;
  }
  request->data[request->used] = tag;
  memcpy(request->data + request->used + 1, value, length - 1);
  request->used += length;
  return 0;
}

/* Back to the dispatcher, which then runs the in-process path. */
static void fall_back(char *dispatcher, char **runc_argv, int count) {
  char **argv = calloc((size_t)count + 2, sizeof *argv);
  if (argv == NULL) exit(1);
  argv[0] = dispatcher;
  for (int i = 0; i < count; i++) argv[i + 1] = runc_argv[i];
  unsetenv("IMAGELESS_IN_WRAPPER"); /* the loop guard: this re-entry is not a loop */
  setenv("IMAGELESS_NO_AGENT", "1", 1);
  execv(dispatcher, argv);
  fprintf(stderr, "imageless: cannot run %s: %s\n", dispatcher, strerror(errno));
  exit(1);
}

static void exec_runc(char *runc, char **runc_argv, int count) {
  char **exec_argv = calloc((size_t)count + 2, sizeof *exec_argv);
  if (exec_argv == NULL) exit(1);
  exec_argv[0] = runc;
  for (int i = 0; i < count; i++) exec_argv[i + 1] = runc_argv[i];
  execv(runc, exec_argv);
  fprintf(stderr, "imageless: runc %s: cannot run it: %s\n", runc, strerror(errno));
  exit(1);
}

/* `--name`, `-name`, `--name=value` (Go's flag package): the name without dashes and value, or NULL. */
static const char *flag_name(const char *arg, size_t *name_length, const char **inline_value) {
  if (arg[0] != '-' || arg[1] == '\0' || strcmp(arg, "--") == 0) return NULL;
  const char *name = arg[1] == '-' ? arg + 2 : arg + 1;
  const char *eq = strchr(name, '=');
  *name_length = eq == NULL ? strlen(name) : (size_t)(eq - name);
  *inline_value = eq == NULL ? NULL : eq + 1;
  return name;
}

static int is_flag(const char *name, size_t length, const char *const *names) {
  for (; *names != NULL; names++)
    if (strlen(*names) == length && strncmp(name, *names, length) == 0) return 1;
  return 0;
}

/*
 * The bundle of a `runc create` argv, read as src/runc/argv.ts reads it (global flags, then the
 * subcommand, then its flags anywhere, the last --bundle winning; the cwd by default). Returns 0 with
 * *bundle set (NULL: the cwd) when the argv is a create this function fully understands, -1 otherwise
 * (another command, an unknown flag, a second positional, a relative bundle): then the agent decides.
 */
static int create_bundle(char **argv, int count, const char **bundle) {
  static const char *const global_value[] = {"root", "log", "log-format", "criu", "rootless", NULL};
  static const char *const global_bool[] = {"debug", "systemd-cgroup", NULL};
  static const char *const create_value[] = {"bundle", "b", "console-socket", "pid-file", "preserve-fds", NULL};
  static const char *const create_bool[] = {"no-pivot", "no-new-keyring", NULL};
  int i = 0;
  size_t length;
  const char *value;
  for (; i < count; i++) {
    const char *name = flag_name(argv[i], &length, &value);
    if (name == NULL) break;
    if (is_flag(name, length, global_value)) {
      if (value == NULL) i++;
    } else if (!is_flag(name, length, global_bool)) {
      return -1;
    }
  }
  if (i >= count || strcmp(argv[i], "create") != 0) return -1;
  *bundle = NULL;
  int positionals = 0;
  for (i++; i < count; i++) {
    const char *name = flag_name(argv[i], &length, &value);
    if (name == NULL) {
      if (++positionals > 1) return -1;
      continue;
    }
    if (is_flag(name, length, create_value)) {
      if (value == NULL) {
        if (i + 1 >= count) return -1;
        value = argv[++i];
      }
      if (is_flag(name, length, (const char *const[]){"bundle", "b", NULL})) *bundle = value;
    } else if (!is_flag(name, length, create_bool)) {
      return -1;
    }
  }
  if (positionals != 1) return -1;
  if (*bundle != NULL && (*bundle)[0] != '/') return -1;
  return 0;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/*
 * Whether a spec (the bytes of config.json) may concern the runtime, conservatively (1 = ask the agent).
 * JSON may spell a string's characters as escapes (`\/`, `\u0066`…), so the text is first decoded
 * the way a JSON parser reads string contents, escape by escape: `\/` and a `\u00XX` of printable
 * ASCII become that character, every other escape (`\"`, `\\`, `\n`, a quote or backslash as `\u`…)
 * becomes a byte no key contains. A real `"` in the decoded text is therefore always a string
 * delimiter. Then:
 *  - without `flox.dev/environment` anywhere, the policy is "unmodified" (no-environment): 0;
 *  - with `"io.kubernetes.cri.container-type":"sandbox"` (an object member, as containerd writes its
 *    own annotation, compact and from a Go map, so never twice), the pause container: 0. A member of
 *    that name elsewhere in a spec (only a sysctl name could be one, and the kernel has no such
 *    sysctl) would at worst run the pod's own container as plain runc, which the pod gets anyway by
 *    leaving out the annotation: no access is gained;
 *  - anything else: 1.
 */
static int spec_needs_agent(const char *text, size_t length) {
  char *decoded = malloc(length + 1);
  if (decoded == NULL) return 1;
  size_t out = 0;
  for (size_t i = 0; i < length; i++) {
    if (text[i] != '\\') {
      decoded[out++] = text[i];
      continue;
    }
    char next = i + 1 < length ? text[i + 1] : '\0';
    int value = -1;
    if (next == '/') value = '/';
    if (next == 'u' && i + 5 < length) {
      int a = hex_digit(text[i + 2]), b = hex_digit(text[i + 3]), c = hex_digit(text[i + 4]),
          d = hex_digit(text[i + 5]);
      if (a >= 0 && b >= 0 && c >= 0 && d >= 0) {
        int code = (a << 12) | (b << 8) | (c << 4) | d;
        value = code >= 0x20 && code < 0x7f && code != '"' && code != '\\' ? code : 0x01;
        i += 4;
      }
    }
    decoded[out++] = value < 0 ? 0x01 : (char)value;
    i += 1;
  }
  static const char key[] = "flox.dev/environment";
  static const char sandbox[] = "\"io.kubernetes.cri.container-type\":\"sandbox\"";
  int needs = memmem(decoded, out, key, sizeof key - 1) != NULL &&
              memmem(decoded, out, sandbox, sizeof sandbox - 1) == NULL;
  free(decoded);
  return needs;
}

/* Whether a create with this argv certainly needs nothing from the runtime (1: exec runc directly). */
static int create_is_plain(char **runc_argv, int count) {
  const char *bundle;
  if (create_bundle(runc_argv, count, &bundle) != 0) return 0;
  char path[4096];
  if (snprintf(path, sizeof path, "%s/config.json", bundle == NULL ? "." : bundle) >= (int)sizeof path)
    return 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char *text = malloc(MAX_SPEC_BYTES);
  size_t used = 0;
  int complete = 0;
  while (text != NULL && used < MAX_SPEC_BYTES) {
    ssize_t n = read(fd, text + used, MAX_SPEC_BYTES - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) {
      complete = 1;
      break;
    }
    used += (size_t)n;
  }
  close(fd);
  int plain = text != NULL && complete && used > 0 && !spec_needs_agent(text, used);
  free(text);
  return plain;
}

static long elapsed_ms(const struct timespec *since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: imageless-agent-client SOCKET RUNC DISPATCHER RUNC-ARGV...\n");
    return 2;
  }
  const char *socket_path = argv[1];
  char *runc = argv[2];
  char *dispatcher = argv[3];
  char **runc_argv = argv + 4;
  int count = argc - 4;

  if (create_is_plain(runc_argv, count)) exec_runc(runc, runc_argv, count);

  int ack_timeout = ACK_TIMEOUT_MS;
  const char *override = getenv("IMAGELESS_AGENT_ACK_TIMEOUT_MS");
  if (override != NULL && atoi(override) > 0) ack_timeout = atoi(override);

  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof address.sun_path) fall_back(dispatcher, runc_argv, count);
  strcpy(address.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fall_back(dispatcher, runc_argv, count);
  /* Bounds connect (a full backlog) and the sends too: a stuck agent must not hold the call there either. */
  struct timeval send_timeout = {.tv_sec = ack_timeout / 1000, .tv_usec = (ack_timeout % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) fall_back(dispatcher, runc_argv, count);
  /* The agent is trusted to edit specs: only one running as our own user (root) is. The socket's
     directory and mode should already ensure that; this costs one getsockopt. */
  struct ucred peer;
  socklen_t peer_length = sizeof peer;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) != 0 || peer.uid != geteuid()) {
    close(fd);
    fall_back(dispatcher, runc_argv, count);
  }

  char cwd[4096];
  struct request request = {NULL, 0, 0};
  int failed = getcwd(cwd, sizeof cwd) == NULL || put_field(&request, 'C', cwd) != 0;
  for (const char *const *name = FORWARDED; !failed && *name != NULL; name++) {
    const char *value = getenv(*name);
    if (value == NULL) continue;
    size_t length = strlen(*name) + strlen(value) + 2;
    char *pair = malloc(length);
    if (pair == NULL) exit(1);
    snprintf(pair, length, "%s=%s", *name, value);
    failed = put_field(&request, 'E', pair) != 0;
    free(pair);
  }
  for (int i = 0; !failed && i < count; i++) failed = put_field(&request, 'A', runc_argv[i]) != 0;
  failed = failed || write_all(fd, request.data, request.used) != 0;
  free(request.data);
  if (failed || shutdown(fd, SHUT_WR) != 0) {
    close(fd);
    fall_back(dispatcher, runc_argv, count);
  }

  /* The whole reply, until the agent closes; bounded only until the "ack" (see 3. above). */
  static char buffer[65536];
  size_t used = 0;
  struct timespec sent;
  clock_gettime(CLOCK_MONOTONIC, &sent);
  while (used < sizeof buffer - 1) {
    if (memchr(buffer, '\n', used) == NULL) {
      long left = ack_timeout - elapsed_ms(&sent);
      struct pollfd ready = {.fd = fd, .events = POLLIN};
      int polled = left > 0 ? poll(&ready, 1, (int)left) : 0;
      if (polled < 0 && errno == EINTR) continue;
      if (polled <= 0) {
        close(fd); /* an agent waking up later meets a closed socket: its "ack" fails, it does nothing */
        fall_back(dispatcher, runc_argv, count);
      }
    }
    ssize_t n = read(fd, buffer + used, sizeof buffer - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += (size_t)n;
  }
  close(fd);
  buffer[used] = '\0';
  /* "ack", then "out" lines, then the line that decides; none of those means the agent died first. */
  char *reply = buffer;
  if (strncmp(reply, "ack\n", 4) != 0) fall_back(dispatcher, runc_argv, count);
  reply += 4;
  for (;;) {
    char *end = strchr(reply, '\n');
    if (end == NULL) fall_back(dispatcher, runc_argv, count);
    *end = '\0';
    if (strncmp(reply, "out ", 4) != 0) break;
    fprintf(stderr, "%s\n", reply + 4);
    reply = end + 1;
  }

  if (strcmp(reply, "run") == 0) exec_runc(runc, runc_argv, count);
  if (strncmp(reply, "fail ", 5) == 0) {
    fprintf(stderr, "imageless: %s\n", reply + 5);
    return 1;
  }
  fall_back(dispatcher, runc_argv, count); /* an answer this client does not know: a newer agent */
  return 1;
}
