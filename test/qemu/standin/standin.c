/*
 * A STAND-IN for container2wasm's QEMU-wasm (qemu-system-x86_64 built with Emscripten), used by
 * the qemu engine's tests because a real c2w bundle cannot be built on the test machines (c2w
 * needs Docker and hours). It is not an emulator. It honours the same contract as the real one:
 *   - it is an Emscripten ES-module factory started with -pthread and PROXY_TO_PTHREAD, so the page
 *     must be cross-origin isolated and its pthread workers load the main script again through
 *     Module.mainScriptUrlOrBlob and find the worker script through Module.locateFile;
 *   - its files under /pack come from a file_packager data file loaded by load.js;
 *   - it reads QEMU's command line from Module.arguments and the guest configuration from
 *     /pack/info, and checks the files the command line names (kernel, snapshot) are there;
 *   - it talks to the terminal through Module.pty (an xterm-pty slave) only;
 *   - it prints the DT:STAGE markers docker-terminal's guests print, then runs a tiny shell with
 *     the same OSC 133 prompt marks as the real guest's bash.
 * What it prints for the tests starts with "STANDIN:".
 */
#include <emscripten.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int argc_;
static char **argv_;

static const char *flag(const char *name) {
  for (int i = 1; i + 1 < argc_; i++)
    if (strcmp(argv_[i], name) == 0) return argv_[i + 1];
  return NULL;
}

static void out(const char *s) {
  fputs(s, stdout);
  fflush(stdout);
}

/* One "CPU" per -smp core: a pthread, so each one needs a worker that loaded the main script. */
static void *cpu(void *arg) {
  printf("STANDIN:CPU %ld online\n", (long)arg);
  fflush(stdout);
  return NULL;
}

static void print_info(void) {
  FILE *f = fopen("/pack/info", "r");
  if (!f) {
    out("STANDIN:INFO missing\nDT:STAGE failed /pack/info is missing\nDT:LOG end\n");
    return;
  }
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    printf("STANDIN:INFO %s\n", line);
  }
  fclose(f);
  fflush(stdout);
}

static const char *info_env(const char *name, char *buf, size_t len) {
  FILE *f = fopen("/pack/info", "r");
  if (!f) return NULL;
  char line[4096];
  size_t n = strlen(name);
  const char *found = NULL;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (strncmp(line, "env:", 4) == 0 && strncmp(line + 4, name, n) == 0 && line[4 + n] == '=') {
      snprintf(buf, len, "%s", line + 5 + n);
      found = buf;
    }
  }
  fclose(f);
  return found;
}

static void file_check(const char *what, const char *path) {
  struct stat st;
  if (!path) return;
  if (strncmp(path, "file:", 5) == 0) path += 5;
  if (stat(path, &st) == 0) printf("STANDIN:FILE %s %s %lld\n", what, path, (long long)st.st_size);
  else printf("STANDIN:FILE %s %s missing\n", what, path);
  fflush(stdout);
}

static int winsize(int which) {
  /* Emscripten 3.1.6 does not pass TIOCGWINSZ to the tty, so ask the pty on the main thread. */
  return MAIN_THREAD_EM_ASM_INT({ return Module['pty'].ioctl('TIOCGWINSZ')[$0]; }, which);
}

/* Reads a line from the pty; the pty's line discipline echoes and edits it. */
static int read_line(char *buf, size_t len) {
  size_t n = 0;
  for (;;) {
    char c;
    ssize_t r = read(0, &c, 1);
    if (r < 0 && errno == EAGAIN) {
      usleep(10000);
      continue;
    }
    if (r <= 0) return -1;
    if (c == '\n') break;
    if (n + 1 < len) buf[n++] = c;
  }
  buf[n] = 0;
  return (int)n;
}

int main(int argc, char **argv) {
  argc_ = argc;
  argv_ = argv;
  out("stand-in: not QEMU; a small Emscripten program that honours the container2wasm --to-js contract\n");
  printf("STANDIN:ARGC %d\n", argc - 1);
  for (int i = 1; i < argc; i++) printf("STANDIN:ARG %s\n", argv[i]);
  fflush(stdout);
  file_check("kernel", flag("-kernel"));
  file_check("snapshot", flag("-incoming"));
  print_info();
  printf("DT:STAGE kernel stand-in restored=%s\n", flag("-incoming") ? "yes" : "no");
  fflush(stdout);

  const char *smp = flag("-smp");
  long cores = smp ? strtol(smp, NULL, 10) : 1;
  for (long i = 0; i < cores; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, cpu, (void *)i) != 0) {
      printf("DT:STAGE failed no thread for cpu %ld\nDT:LOG end\n", i);
      return 1;
    }
    pthread_join(t, NULL);
  }

  char timeout[64];
  const char *ct = info_env("DT_CONTAINERD_TIMEOUT", timeout, sizeof timeout);
  printf("DT:STAGE containerd starting timeout=%ss\n", ct ? ct : "unset");
  out("DT:STAGE dockerd starting\nDT:STAGE ready stand-in\n");

  int status = 0, number = 1;
  char line[1024];
  for (;;) {
    printf("\033]133;D;%d\a\033]133;A\astand-in $ \033]133;B;%d\a", status, number++);
    fflush(stdout);
    if (read_line(line, sizeof line) < 0) break;
    status = 0;
    if (strncmp(line, "echo ", 5) == 0) printf("%s\n", line + 5);
    else if (strcmp(line, "size") == 0) printf("%d %d\n", winsize(1), winsize(0)); /* [cols, rows], as xterm-pty keeps it */
    else if (strcmp(line, "info") == 0) print_info();
    else if (strcmp(line, "false") == 0) status = 1;
    else if (strcmp(line, "exit") == 0) break;
    else if (line[0]) {
      printf("stand-in: %s: not a command of the stand-in\n", line);
      status = 127;
    }
    fflush(stdout);
  }
  out("STANDIN:EXIT\n");
  return 0;
}
