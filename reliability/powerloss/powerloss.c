/*
 * powerloss.so — an LD_PRELOAD library that lets a test simulate a power cut after SIGKILL.
 *
 * For every file opened under $POWERLOSS_DIR it appends to the side file $POWERLOSS_LOG, before
 * each write reaches the file, an undo record holding the bytes the write is about to overwrite
 * (its "pre-image") and the file's size. When the file is made durable — fsync, fdatasync, msync
 * of a mapping of it, sync, syncfs — it appends a sync record that voids the undo records taken
 * before the sync began. After the process is SIGKILLed, the restore step (src/powerloss.ts) reads
 * the log and, per file, applies the surviving undo records newest first: every file returns to
 * its content as of its last completed sync, which is what a power cut leaves when the disk kept
 * nothing beyond what was synced.
 *
 * Writes through a descriptor opened with O_SYNC, O_DSYNC or O_DIRECT count as synced on their
 * own; they leave a "keep" record so that an older undo record never rolls back bytes that such a
 * write made durable.
 *
 * stdio streams (LevelDB writes its log and table files with fwrite_unlocked / fflush_unlocked)
 * are assumed to be written sequentially at their end, as LevelDB does: before each fwrite or
 * fflush the file's size is recorded, and the restore truncates it back to its size at the last sync.
 *
 * Not modelled (see RELIABILITY.md): directory entries (create, rename and unlink are treated as
 * durable at once), torn or reordered sectors within one write, writes through a writable shared
 * mapping (reported on stderr; none of the three libraries' data files are written that way in
 * their default configuration), and sync_file_range, which is not a durability barrier.
 *
 * The undo log is written with plain write(2): it only has to survive SIGKILL of this process,
 * which the page cache guarantees. Every record is appended under one mutex together with the
 * write it protects, so the log order is the order in which writes hit each file.
 *
 * Record layout (native little-endian):
 *   'P' u32 id u32 len path[len]                          a tracked path gets an id
 *   'U' u64 seq u32 id u64 off u64 oldsize u32 n pre[n]  undo: pre-image of [off, off+n), size before
 *   'K' u64 seq u32 id u64 off u64 len                   a synced-per-write write: keep these bytes
 *   'S' u64 seq u32 id                                    file id synced: void its records with seq < this
 *   'A' u64 seq                                           everything synced (sync, syncfs)
 *   'D' u32 id                                            path unlinked: its records no longer apply
 *   'R' u32 from u32 to                                   rename: from's pending records now belong to to
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#undef fwrite_unlocked
#undef fflush_unlocked

#define MAX_FDS 65536
#define MAX_FILES 8192
#define MAX_MAPS 256

struct fd_info {
  int id;        /* 0: untracked */
  int sync_each; /* O_SYNC / O_DSYNC / O_DIRECT */
  int append;    /* O_APPEND */
  int rfd;       /* a read descriptor on the same file, for pre-images */
};

struct map_info {
  char *addr;
  size_t len;
  int id;
};

static struct fd_info fds[MAX_FDS];
static char *paths[MAX_FILES];
static int nfiles = 0;
static struct map_info maps[MAX_MAPS];
static uint64_t seq = 1;
static int log_fd = -1;
static char dir_prefix[PATH_MAX];
static size_t dir_len = 0;
static int enabled = 0;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static int (*real_ftruncate)(int, off_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_msync)(void *, size_t, int);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static void (*real_sync)(void);
static int (*real_syncfs)(int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned int);
static FILE *(*real_fopen)(const char *, const char *);
static FILE *(*real_fopen64)(const char *, const char *);
static size_t (*real_fwrite)(const void *, size_t, size_t, FILE *);
static size_t (*real_fwrite_unlocked)(const void *, size_t, size_t, FILE *);
static int (*real_fflush)(FILE *);
static int (*real_fflush_unlocked)(FILE *);
static int (*real_fclose)(FILE *);

#define RESOLVE(name) real_##name = dlsym(RTLD_NEXT, #name)

static int initialized = 0;

__attribute__((constructor)) static void init(void) {
  if (initialized) return;
  initialized = 1;
  RESOLVE(open);
  RESOLVE(openat);
  RESOLVE(close);
  RESOLVE(write);
  RESOLVE(pwrite);
  RESOLVE(writev);
  RESOLVE(pwritev);
  RESOLVE(pwritev2);
  RESOLVE(ftruncate);
  RESOLVE(fallocate);
  RESOLVE(fsync);
  RESOLVE(fdatasync);
  RESOLVE(msync);
  RESOLVE(mmap);
  RESOLVE(munmap);
  RESOLVE(sync);
  RESOLVE(syncfs);
  RESOLVE(unlink);
  RESOLVE(unlinkat);
  RESOLVE(rename);
  RESOLVE(renameat);
  RESOLVE(renameat2);
  RESOLVE(fopen);
  RESOLVE(fopen64);
  RESOLVE(fwrite);
  RESOLVE(fwrite_unlocked);
  RESOLVE(fflush);
  RESOLVE(fflush_unlocked);
  RESOLVE(fclose);
  const char *dir = getenv("POWERLOSS_DIR");
  const char *log = getenv("POWERLOSS_LOG");
  if (!dir || !log || !*dir || !*log) return;
  if (!realpath(dir, dir_prefix)) {
    strncpy(dir_prefix, dir, sizeof dir_prefix - 1);
  }
  dir_len = strlen(dir_prefix);
  log_fd = real_open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    fprintf(stderr, "powerloss: cannot open undo log %s\n", log);
    abort();
  }
  for (int i = 0; i < MAX_FDS; i++) fds[i].rfd = -1;
  enabled = 1;
}

static void die(const char *what) {
  fprintf(stderr, "powerloss: %s failed (errno %d)\n", what, errno);
  abort();
}

static void log_bytes(const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = real_write(log_fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("undo log write");
    }
    p += w;
    n -= (size_t)w;
  }
}

#define PUT(v) log_bytes(&(v), sizeof(v))

/* Absolute path of `path` relative to `dirfd`, or 0 when it cannot be resolved. */
static int absolute(int dirfd, const char *path, char *out) {
  if (!path) return 0;
  if (path[0] == '/') {
    snprintf(out, PATH_MAX, "%s", path);
    return 1;
  }
  char base[PATH_MAX];
  if (dirfd == AT_FDCWD) {
    if (!getcwd(base, sizeof base)) return 0;
  } else {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
    ssize_t n = readlink(link, base, sizeof base - 1);
    if (n < 0) return 0;
    base[n] = 0;
  }
  snprintf(out, PATH_MAX, "%s/%s", base, path);
  return 1;
}

static int under_dir(const char *abs) {
  return enabled && strncmp(abs, dir_prefix, dir_len) == 0 && (abs[dir_len] == '/' || abs[dir_len] == 0);
}

/* The id of a tracked path, declaring it in the log the first time. Caller holds mu. */
static int file_id(const char *abs) {
  for (int i = 1; i <= nfiles; i++)
    if (strcmp(paths[i], abs) == 0) return i;
  if (nfiles + 1 >= MAX_FILES) die("file table full");
  int id = ++nfiles;
  paths[id] = strdup(abs);
  char t = 'P';
  uint32_t uid = (uint32_t)id, len = (uint32_t)strlen(abs);
  PUT(t);
  PUT(uid);
  PUT(len);
  log_bytes(abs, len);
  return id;
}

static int lookup_id(const char *abs) {
  for (int i = 1; i <= nfiles; i++)
    if (strcmp(paths[i], abs) == 0) return i;
  return 0;
}

/* Records the pre-image of [off, off+len) of the file behind `fd`. Caller holds mu. */
static void record_undo(int fd, off_t off, size_t len) {
  struct fd_info *f = &fds[fd];
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat");
  uint64_t oldsize = (uint64_t)st.st_size;
  if (f->append) off = st.st_size;
  uint32_t n = 0;
  if ((uint64_t)off < oldsize) {
    uint64_t avail = oldsize - (uint64_t)off;
    n = (uint32_t)(avail < len ? avail : len);
  }
  char *pre = NULL;
  if (n > 0) {
    pre = malloc(n);
    if (!pre) die("malloc");
    size_t got = 0;
    while (got < n) {
      ssize_t r = pread(f->rfd >= 0 ? f->rfd : fd, pre + got, n - got, off + (off_t)got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) die("pread for pre-image");
      got += (size_t)r;
    }
  }
  char t = 'U';
  uint64_t s = seq++, o = (uint64_t)off;
  uint32_t id = (uint32_t)f->id;
  PUT(t);
  PUT(s);
  PUT(id);
  PUT(o);
  PUT(oldsize);
  PUT(n);
  if (n > 0) log_bytes(pre, n);
  free(pre);
}

static void record_keep(int fd, off_t off, size_t len) {
  struct fd_info *f = &fds[fd];
  if (f->append) {
    struct stat st;
    if (fstat(fd, &st) != 0) die("fstat");
    off = st.st_size;
  }
  char t = 'K';
  uint64_t s = seq++, o = (uint64_t)off, l = (uint64_t)len;
  uint32_t id = (uint32_t)f->id;
  PUT(t);
  PUT(s);
  PUT(id);
  PUT(o);
  PUT(l);
}

static int tracked(int fd) {
  return enabled && fd >= 0 && fd < MAX_FDS && fds[fd].id != 0;
}

/* Before a write of `len` bytes at `off` (-1: the descriptor's current offset). Caller holds mu. */
static void before_write(int fd, off_t off, size_t len) {
  if (len == 0) return;
  if (off < 0) off = lseek(fd, 0, SEEK_CUR);
  if (fds[fd].sync_each)
    record_keep(fd, off, len);
  else
    record_undo(fd, off, len);
}

static size_t iov_len(const struct iovec *iov, int cnt) {
  size_t n = 0;
  for (int i = 0; i < cnt; i++) n += iov[i].iov_len;
  return n;
}

static void track_open(int fd, const char *abs, int flags) {
  if (fd < 0 || fd >= MAX_FDS) return;
  int id = file_id(abs);
  fds[fd].id = id;
  fds[fd].sync_each = (flags & (O_SYNC | O_DSYNC | O_DIRECT)) != 0;
  fds[fd].append = (flags & O_APPEND) != 0;
  fds[fd].rfd = -1;
  if ((flags & O_ACCMODE) == O_WRONLY) fds[fd].rfd = real_open(abs, O_RDONLY | O_CLOEXEC);
}

/* Truncating an existing file on open is a write: keep its content until a sync. Caller holds mu. */
static void keep_before_truncate(const char *abs) {
  int rfd = real_open(abs, O_RDONLY | O_CLOEXEC);
  if (rfd < 0) return;
  struct stat st;
  if (fstat(rfd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && rfd < MAX_FDS) {
    struct fd_info saved = fds[rfd];
    fds[rfd] = (struct fd_info){.id = file_id(abs), .sync_each = 0, .append = 0, .rfd = -1};
    record_undo(rfd, 0, (size_t)st.st_size);
    fds[rfd] = saved;
  }
  real_close(rfd);
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode) {
  if (!initialized) init();
  char abs[PATH_MAX];
  if (!enabled || !absolute(dirfd, path, abs) || !under_dir(abs)) return real_openat(dirfd, path, flags, mode);
  pthread_mutex_lock(&mu);
  if (flags & O_TRUNC) keep_before_truncate(abs);
  int fd = real_openat(dirfd, path, flags, mode);
  if (fd >= 0) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) track_open(fd, abs, flags);
  }
  pthread_mutex_unlock(&mu);
  return fd;
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open(AT_FDCWD, path, flags, m);
}
int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open(AT_FDCWD, path, flags, m);
}
int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open(dirfd, path, flags, m);
}
int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open(dirfd, path, flags, m);
}
int __open_2(const char *path, int flags) { return do_open(AT_FDCWD, path, flags, 0); }
int __open64_2(const char *path, int flags) { return do_open(AT_FDCWD, path, flags, 0); }
int __openat_2(int dirfd, const char *path, int flags) { return do_open(dirfd, path, flags, 0); }
int __openat64_2(int dirfd, const char *path, int flags) { return do_open(dirfd, path, flags, 0); }
int creat(const char *path, mode_t mode) { return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }
int creat64(const char *path, mode_t mode) { return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

int close(int fd) {
  if (!initialized) init();
  if (tracked(fd)) {
    pthread_mutex_lock(&mu);
    if (fds[fd].rfd >= 0) real_close(fds[fd].rfd);
    fds[fd] = (struct fd_info){.id = 0, .sync_each = 0, .append = 0, .rfd = -1};
    pthread_mutex_unlock(&mu);
  }
  return real_close(fd);
}

ssize_t write(int fd, const void *buf, size_t n) {
  if (!initialized) init();
  if (!tracked(fd)) return real_write(fd, buf, n);
  pthread_mutex_lock(&mu);
  before_write(fd, -1, n);
  ssize_t r = real_write(fd, buf, n);
  pthread_mutex_unlock(&mu);
  return r;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  if (!tracked(fd)) return real_pwrite(fd, buf, n, off);
  pthread_mutex_lock(&mu);
  before_write(fd, off, n);
  ssize_t r = real_pwrite(fd, buf, n, off);
  pthread_mutex_unlock(&mu);
  return r;
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) { return pwrite(fd, buf, n, off); }

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  if (!tracked(fd)) return real_writev(fd, iov, cnt);
  pthread_mutex_lock(&mu);
  before_write(fd, -1, iov_len(iov, cnt));
  ssize_t r = real_writev(fd, iov, cnt);
  pthread_mutex_unlock(&mu);
  return r;
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
  if (!tracked(fd)) return real_pwritev(fd, iov, cnt, off);
  pthread_mutex_lock(&mu);
  before_write(fd, off, iov_len(iov, cnt));
  ssize_t r = real_pwritev(fd, iov, cnt, off);
  pthread_mutex_unlock(&mu);
  return r;
}
ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off) { return pwritev(fd, iov, cnt, off); }

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
  if (!tracked(fd)) return real_pwritev2(fd, iov, cnt, off, flags);
  pthread_mutex_lock(&mu);
  int was = fds[fd].sync_each;
  if (flags & (RWF_DSYNC | RWF_SYNC)) fds[fd].sync_each = 1;
  before_write(fd, off, iov_len(iov, cnt));
  fds[fd].sync_each = was;
  ssize_t r = real_pwritev2(fd, iov, cnt, off, flags);
  pthread_mutex_unlock(&mu);
  return r;
}
ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) { return pwritev2(fd, iov, cnt, off, flags); }

static void record_size_change(int fd, off_t newsize) {
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat");
  if (newsize < st.st_size)
    record_undo(fd, newsize, (size_t)(st.st_size - newsize));
  else
    record_undo(fd, st.st_size, 0); /* nothing to keep past EOF: records only the old size */
}

int ftruncate(int fd, off_t len) {
  if (!tracked(fd)) return real_ftruncate(fd, len);
  pthread_mutex_lock(&mu);
  int append = fds[fd].append;
  fds[fd].append = 0;
  record_size_change(fd, len);
  fds[fd].append = append;
  int r = real_ftruncate(fd, len);
  pthread_mutex_unlock(&mu);
  return r;
}
int ftruncate64(int fd, off_t len) { return ftruncate(fd, len); }

int fallocate(int fd, int mode, off_t off, off_t len) {
  if (!tracked(fd)) return real_fallocate(fd, mode, off, len);
  pthread_mutex_lock(&mu);
  int append = fds[fd].append;
  fds[fd].append = 0;
  record_size_change(fd, off + len);
  fds[fd].append = append;
  int r = real_fallocate(fd, mode, off, len);
  pthread_mutex_unlock(&mu);
  return r;
}
int fallocate64(int fd, int mode, off_t off, off_t len) { return fallocate(fd, mode, off, len); }

/* Runs a sync and, once it has returned successfully, voids the records taken before it began. */
static int synced(int id, int r, uint64_t began) {
  if (r != 0 || !enabled) return r;
  pthread_mutex_lock(&mu);
  if (id > 0) {
    char t = 'S';
    uint32_t uid = (uint32_t)id;
    PUT(t);
    PUT(began);
    PUT(uid);
  } else {
    char t = 'A';
    PUT(t);
    PUT(began);
  }
  pthread_mutex_unlock(&mu);
  return r;
}

static uint64_t sync_begins(void) {
  pthread_mutex_lock(&mu);
  uint64_t s = seq++;
  pthread_mutex_unlock(&mu);
  return s;
}

int fsync(int fd) {
  if (!tracked(fd)) return real_fsync(fd);
  int id = fds[fd].id;
  uint64_t b = sync_begins();
  return synced(id, real_fsync(fd), b);
}

int fdatasync(int fd) {
  if (!tracked(fd)) return real_fdatasync(fd);
  int id = fds[fd].id;
  uint64_t b = sync_begins();
  return synced(id, real_fdatasync(fd), b);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  void *p = real_mmap(addr, len, prot, flags, fd, off);
  if (p != MAP_FAILED && tracked(fd) && (flags & MAP_SHARED)) {
    pthread_mutex_lock(&mu);
    for (int i = 0; i < MAX_MAPS; i++) {
      if (maps[i].addr == NULL) {
        maps[i] = (struct map_info){.addr = p, .len = len, .id = fds[fd].id};
        break;
      }
    }
    const char *path = paths[fds[fd].id];
    size_t pl = strlen(path);
    int shm = pl > 4 && strcmp(path + pl - 4, "-shm") == 0;
    if ((prot & PROT_WRITE) && !shm) fprintf(stderr, "powerloss: writes through the shared writable mapping of %s are not tracked\n", path);
    pthread_mutex_unlock(&mu);
  }
  return p;
}
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) { return mmap(addr, len, prot, flags, fd, off); }

int munmap(void *addr, size_t len) {
  if (enabled) {
    pthread_mutex_lock(&mu);
    for (int i = 0; i < MAX_MAPS; i++)
      if (maps[i].addr == addr) maps[i].addr = NULL;
    pthread_mutex_unlock(&mu);
  }
  return real_munmap(addr, len);
}

int msync(void *addr, size_t len, int flags) {
  int id = 0;
  if (enabled && (flags & MS_SYNC)) {
    pthread_mutex_lock(&mu);
    for (int i = 0; i < MAX_MAPS; i++)
      if (maps[i].addr && (char *)addr >= maps[i].addr && (char *)addr < maps[i].addr + maps[i].len) id = maps[i].id;
    pthread_mutex_unlock(&mu);
  }
  if (id == 0) return real_msync(addr, len, flags);
  uint64_t b = sync_begins();
  return synced(id, real_msync(addr, len, flags), b);
}

void sync(void) {
  uint64_t b = enabled ? sync_begins() : 0;
  real_sync();
  if (enabled) synced(0, 0, b);
}

int syncfs(int fd) {
  uint64_t b = enabled ? sync_begins() : 0;
  return enabled ? synced(0, real_syncfs(fd), b) : real_syncfs(fd);
}

static void forget(int dirfd, const char *path) {
  char abs[PATH_MAX];
  if (!enabled || !absolute(dirfd, path, abs) || !under_dir(abs)) return;
  int id = lookup_id(abs);
  if (id == 0) return;
  char t = 'D';
  uint32_t uid = (uint32_t)id;
  PUT(t);
  PUT(uid);
}

int unlink(const char *path) {
  pthread_mutex_lock(&mu);
  int r = real_unlink(path);
  if (r == 0) forget(AT_FDCWD, path);
  pthread_mutex_unlock(&mu);
  return r;
}

int unlinkat(int dirfd, const char *path, int flags) {
  pthread_mutex_lock(&mu);
  int r = real_unlinkat(dirfd, path, flags);
  if (r == 0 && !(flags & AT_REMOVEDIR)) forget(dirfd, path);
  pthread_mutex_unlock(&mu);
  return r;
}

static void moved(int fromfd, const char *from, int tofd, const char *to) {
  char a[PATH_MAX], b[PATH_MAX];
  if (!enabled || !absolute(fromfd, from, a) || !absolute(tofd, to, b) || !under_dir(a) || !under_dir(b)) return;
  int src = file_id(a), dst = file_id(b);
  char t = 'R';
  uint32_t s = (uint32_t)src, d = (uint32_t)dst;
  PUT(t);
  PUT(s);
  PUT(d);
}

int rename(const char *from, const char *to) {
  pthread_mutex_lock(&mu);
  int r = real_rename(from, to);
  if (r == 0) moved(AT_FDCWD, from, AT_FDCWD, to);
  pthread_mutex_unlock(&mu);
  return r;
}

int renameat(int fromfd, const char *from, int tofd, const char *to) {
  pthread_mutex_lock(&mu);
  int r = real_renameat(fromfd, from, tofd, to);
  if (r == 0) moved(fromfd, from, tofd, to);
  pthread_mutex_unlock(&mu);
  return r;
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags) {
  pthread_mutex_lock(&mu);
  int r = real_renameat2(fromfd, from, tofd, to, flags);
  if (r == 0) moved(fromfd, from, tofd, to);
  pthread_mutex_unlock(&mu);
  return r;
}

/* stdio: the stream's buffer reaches the file at some later fwrite/fflush/fclose; recording the
 * size before each of them lets the restore cut the file back to its size at the last sync. */
static FILE *do_fopen(FILE *(*real)(const char *, const char *), const char *path, const char *mode) {
  if (!initialized) init();
  char abs[PATH_MAX];
  if (!enabled || !absolute(AT_FDCWD, path, abs) || !under_dir(abs)) return real(path, mode);
  pthread_mutex_lock(&mu);
  if (mode[0] == 'w') keep_before_truncate(abs);
  FILE *f = real(path, mode);
  if (f) {
    int flags = (mode[0] == 'a' ? O_APPEND : 0) | (strchr(mode, '+') || mode[0] == 'r' ? O_RDWR : O_WRONLY);
    track_open(fileno(f), abs, flags);
    fds[fileno(f)].append = 1;
  }
  pthread_mutex_unlock(&mu);
  return f;
}
FILE *fopen(const char *path, const char *mode) { return do_fopen(real_fopen, path, mode); }
FILE *fopen64(const char *path, const char *mode) { return do_fopen(real_fopen64 ? real_fopen64 : real_fopen, path, mode); }

static void before_stdio(FILE *f) {
  if (!f) return;
  int fd = fileno(f);
  if (!tracked(fd)) return;
  pthread_mutex_lock(&mu);
  if (fds[fd].sync_each)
    ;
  else
    record_undo(fd, 0, 0);
  pthread_mutex_unlock(&mu);
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f) {
  before_stdio(f);
  return real_fwrite(p, size, n, f);
}
size_t fwrite_unlocked(const void *p, size_t size, size_t n, FILE *f) {
  before_stdio(f);
  return real_fwrite_unlocked(p, size, n, f);
}
int fflush(FILE *f) {
  before_stdio(f);
  return real_fflush(f);
}
int fflush_unlocked(FILE *f) {
  before_stdio(f);
  return real_fflush_unlocked(f);
}
int fclose(FILE *f) {
  if (!f) return real_fclose(f);
  before_stdio(f);
  int fd = fileno(f);
  if (tracked(fd)) {
    pthread_mutex_lock(&mu);
    if (fds[fd].rfd >= 0) real_close(fds[fd].rfd);
    fds[fd] = (struct fd_info){.id = 0, .sync_each = 0, .append = 0, .rfd = -1};
    pthread_mutex_unlock(&mu);
  }
  return real_fclose(f);
}
