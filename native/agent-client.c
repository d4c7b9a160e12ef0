/*
 * imageless-agent-client: the hop from bin/imageless-runc to the node agent (`imageless node agent`)
 * for runc create/exec/delete, so that no Node process starts per runc call (DESIGN.md, "The start
 * path must not pay for Node"). sh cannot open a unix socket; a static binary this small starts in
 * about a millisecond (bench/README.md).
 *
 *   imageless-agent-client SOCKET RUNC DISPATCHER RUNC-ARGV...
 *
 * Sends the call as NUL-terminated fields ("C" cwd, "E" a forwarded variable, "A" each argument),
 * closes its writing half, and reads the reply until the agent closes: zero or more lines
 *   "out LINE"   a line for the container's log (runc create's stderr is the container's): print it;
 * then one of
 *   "run"        the agent did its work (or reported a failed delete): exec RUNC with RUNC-ARGV;
 *   "fail MSG"   the agent wrote MSG to runc's --log already: print it and exit 1.
 * When the agent cannot be reached or answers nothing, the call goes back to DISPATCHER with
 * IMAGELESS_NO_AGENT=1, which does the work in-process (a pod never fails because the agent is down).
 * The wire format is read by src/agent/agent-protocol.ts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Variables of the caller (containerd's environment) the agent must see as the wrapper would. */
static const char *const FORWARDED[] = {"FLOX_DISABLE_METRICS", NULL};

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

static int put_field(int fd, char tag, const char *value) {
  if (write_all(fd, &tag, 1) != 0) return -1;
  return write_all(fd, value, strlen(value) + 1);
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

  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof address.sun_path) fall_back(dispatcher, runc_argv, count);
  strcpy(address.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0)
    fall_back(dispatcher, runc_argv, count);

  char cwd[4096];
  int failed = getcwd(cwd, sizeof cwd) == NULL || put_field(fd, 'C', cwd) != 0;
  for (const char *const *name = FORWARDED; !failed && *name != NULL; name++) {
    const char *value = getenv(*name);
    if (value == NULL) continue;
    size_t length = strlen(*name) + strlen(value) + 2;
    char *pair = malloc(length);
    if (pair == NULL) exit(1);
    snprintf(pair, length, "%s=%s", *name, value);
    failed = put_field(fd, 'E', pair) != 0;
    free(pair);
  }
  for (int i = 0; !failed && i < count; i++) failed = put_field(fd, 'A', runc_argv[i]) != 0;
  if (failed || shutdown(fd, SHUT_WR) != 0) fall_back(dispatcher, runc_argv, count);

  /* The whole reply, until the agent closes; a create may take minutes (a cold realisation), so no
     timeout of our own: the shim's own deadline applies, as it does to runc. */
  static char buffer[65536];
  size_t used = 0;
  while (used < sizeof buffer - 1) {
    ssize_t n = read(fd, buffer + used, sizeof buffer - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += (size_t)n;
  }
  close(fd);
  buffer[used] = '\0';
  /* "out" lines first, then the line that decides; none of those means the agent died first. */
  char *reply = buffer;
  for (;;) {
    char *end = strchr(reply, '\n');
    if (end == NULL) fall_back(dispatcher, runc_argv, count);
    *end = '\0';
    if (strncmp(reply, "out ", 4) != 0) break;
    fprintf(stderr, "%s\n", reply + 4);
    reply = end + 1;
  }

  if (strcmp(reply, "run") == 0) {
    char **exec_argv = calloc((size_t)count + 2, sizeof *exec_argv);
    if (exec_argv == NULL) exit(1);
    exec_argv[0] = runc;
    for (int i = 0; i < count; i++) exec_argv[i + 1] = runc_argv[i];
    execv(runc, exec_argv);
    fprintf(stderr, "imageless: runc %s: cannot run it: %s\n", runc, strerror(errno));
    return 1;
  }
  if (strncmp(reply, "fail ", 5) == 0) {
    fprintf(stderr, "imageless: %s\n", reply + 5);
    return 1;
  }
  fall_back(dispatcher, runc_argv, count); /* an answer this client does not know: a newer agent */
  return 1;
}
