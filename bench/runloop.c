/* runloop N INPUT PROGRAM [ARGS...]: runs PROGRAM N times with INPUT on stdin, stdout and stderr
 * discarded, and prints "<milliseconds per run> <peak RSS KiB> <failures>". fork and exec are included. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: runloop N INPUT PROGRAM [ARGS...]\n"); return 2; }
    int n = atoi(argv[1]);
    long peak = 0;
    int failures = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            int in = open(argv[2], O_RDONLY);
            int null = open("/dev/null", O_WRONLY);
            dup2(in, 0); dup2(null, 1); dup2(null, 2);
            execv(argv[3], argv + 3);
            _exit(127);
        }
        int status;
        struct rusage ru;
        wait4(pid, &status, 0, &ru);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failures++;
        if (ru.ru_maxrss > peak) peak = ru.ru_maxrss;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6) / n;
    printf("%.3f %ld %d\n", ms, peak, failures);
    return 0;
}
