/*
 * faultfs: an LD_PRELOAD shim that makes writes and syncs fail on files under a directory while
 * a control file exists, so the chaos harness can start and stop disk faults at will.
 *
 *   CHAOS_FAULT_DIR=/abs/dir      files whose path starts with this are affected
 *   CHAOS_FAULT_CTL=/abs/file     faults are on while this file exists; its first bytes may name
 *                                 the errno: "EIO", "EROFS" or "ENOSPC" (default EIO)
 *
 * Wrapped: write, pwrite, pwrite64, writev, pwritev, fsync, fdatasync, ftruncate, ftruncate64.
 * (SQLite's unix VFS reaches the kernel through these libc symbols; reads are left alone.)
 * Built by `cargo xtask chaos`: gcc -shared -fPIC -O2 -o target/chaos/libfaultfs.so faultfs.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int fault_errno(void) {
    const char *ctl = getenv("CHAOS_FAULT_CTL");
    if (!ctl) return 0;
    int saved = errno;
    int fd = open(ctl, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { errno = saved; return 0; }
    char buf[16] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    errno = saved;
    if (n > 0 && strncmp(buf, "EROFS", 5) == 0) return EROFS;
    if (n > 0 && strncmp(buf, "ENOSPC", 6) == 0) return ENOSPC;
    return EIO;
}

/* The errno to fail this call with, or 0 to let it through. */
static int should_fail(int fd) {
    const char *dir = getenv("CHAOS_FAULT_DIR");
    if (!dir || fd < 0) return 0;
    int e = fault_errno();
    if (!e) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    int saved = errno;
    ssize_t n = readlink(link, path, sizeof path - 1);
    errno = saved;
    if (n <= 0) return 0;
    path[n] = 0;
    return strncmp(path, dir, strlen(dir)) == 0 ? e : 0;
}

#define REAL(name, ret, args) \
    static ret (*real_##name) args; \
    if (!real_##name) real_##name = (ret (*) args) dlsym(RTLD_NEXT, #name)

#define FAIL_IF(fd) do { int e_ = should_fail(fd); if (e_) { errno = e_; return -1; } } while (0)

ssize_t write(int fd, const void *buf, size_t n) {
    REAL(write, ssize_t, (int, const void *, size_t));
    FAIL_IF(fd);
    return real_write(fd, buf, n);
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    REAL(pwrite, ssize_t, (int, const void *, size_t, off_t));
    FAIL_IF(fd);
    return real_pwrite(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
    REAL(pwrite64, ssize_t, (int, const void *, size_t, off64_t));
    FAIL_IF(fd);
    return real_pwrite64(fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    REAL(writev, ssize_t, (int, const struct iovec *, int));
    FAIL_IF(fd);
    return real_writev(fd, iov, cnt);
}
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
    REAL(pwritev, ssize_t, (int, const struct iovec *, int, off_t));
    FAIL_IF(fd);
    return real_pwritev(fd, iov, cnt, off);
}
int fsync(int fd) {
    REAL(fsync, int, (int));
    FAIL_IF(fd);
    return real_fsync(fd);
}
int fdatasync(int fd) {
    REAL(fdatasync, int, (int));
    FAIL_IF(fd);
    return real_fdatasync(fd);
}
int ftruncate(int fd, off_t len) {
    REAL(ftruncate, int, (int, off_t));
    FAIL_IF(fd);
    return real_ftruncate(fd, len);
}
int ftruncate64(int fd, off64_t len) {
    REAL(ftruncate64, int, (int, off64_t));
    FAIL_IF(fd);
    return real_ftruncate64(fd, len);
}
