// SPDX-License-Identifier: GPL-2.0
/*
 * 9P2000.L server: decodes a request, runs it on the host confined to the
 * shared directory, encodes the reply. A fid is a parent directory fd plus
 * one name in it, so every host call is *at(dirfd, name) with a single
 * component that is never "..", never has a "/", and is never followed if
 * it is a symlink; directories are entered only with O_NOFOLLOW and only
 * on the share's own filesystem (no crossing mounts).
 */
#include "9p.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

enum {
	P9_RLERROR = 7,
	P9_TSTATFS = 8, P9_TLOPEN = 12, P9_TLCREATE = 14, P9_TSYMLINK = 16,
	P9_TMKNOD = 18, P9_TRENAME = 20, P9_TREADLINK = 22, P9_TGETATTR = 24,
	P9_TSETATTR = 26, P9_TXATTRWALK = 30, P9_TXATTRCREATE = 32,
	P9_TREADDIR = 40, P9_TFSYNC = 50, P9_TLOCK = 52, P9_TGETLOCK = 54,
	P9_TLINK = 70, P9_TMKDIR = 72, P9_TRENAMEAT = 74, P9_TUNLINKAT = 76,
	P9_TVERSION = 100, P9_TAUTH = 102, P9_TATTACH = 104, P9_TFLUSH = 108,
	P9_TWALK = 110, P9_TREAD = 116, P9_TWRITE = 118, P9_TCLUNK = 120,
	P9_TREMOVE = 122,
};

#define P9_NOFID 0xffffffffu
#define P9_HDR 7
#define P9_MAXWELEM 16

struct p9_fid {
	int dir;		/* O_PATH fd of the directory holding the object */
	char name[256];		/* its name there ("." for the root) */
	int fd;			/* open for I/O after lopen/lcreate, else -1 */
};

/* Decoding: a cursor that fails (and stays failed) on a short message. */
struct p9_in {
	const uint8_t *p;
	size_t left;
	bool bad;
};

struct p9_out {
	uint8_t *p;
	size_t len, cap;
	bool full;
};

static const uint8_t *get(struct p9_in *in, size_t n)
{
	const uint8_t *p = in->p;

	if (in->bad || in->left < n) {
		in->bad = true;
		return NULL;
	}
	in->p += n;
	in->left -= n;
	return p;
}

static uint64_t get_le(struct p9_in *in, unsigned int n)
{
	const uint8_t *p = get(in, n);
	uint64_t v = 0;

	for (unsigned int i = 0; p && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#define g8(in) ((uint8_t)get_le(in, 1))
#define g16(in) ((uint16_t)get_le(in, 2))
#define g32(in) ((uint32_t)get_le(in, 4))
#define g64(in) get_le(in, 8)

/* A string, NUL-terminated into buf; NUL bytes inside make it bad. */
static void gstr(struct p9_in *in, char *buf, size_t cap)
{
	uint16_t n = g16(in);
	const uint8_t *p = get(in, n);

	buf[0] = 0;
	if (!p)
		return;
	if (n >= cap || memchr(p, 0, n)) {
		in->bad = true;
		return;
	}
	memcpy(buf, p, n);
	buf[n] = 0;
}

static uint8_t *put(struct p9_out *o, size_t n)
{
	uint8_t *p = o->p + o->len;

	if (o->full || o->cap - o->len < n) {
		o->full = true;
		return NULL;
	}
	o->len += n;
	return p;
}

static void put_le(struct p9_out *o, uint64_t v, unsigned int n)
{
	uint8_t *p = put(o, n);

	for (unsigned int i = 0; p && i < n; i++)
		p[i] = v >> (8 * i);
}

#define p8(o, v) put_le(o, v, 1)
#define p16(o, v) put_le(o, v, 2)
#define p32(o, v) put_le(o, v, 4)
#define p64(o, v) put_le(o, v, 8)

static void pstr(struct p9_out *o, const char *s)
{
	size_t n = strnlen(s, 0xffff);
	uint8_t *p;

	p16(o, n);
	p = put(o, n);
	if (p)
		memcpy(p, s, n);
}

static void pqid(struct p9_out *o, const struct stat *st)
{
	uint8_t type = S_ISDIR(st->st_mode) ? 0x80 : S_ISLNK(st->st_mode) ? 0x02 : 0;

	p8(o, type);
	p32(o, st->st_mtime ^ (st->st_size << 8));
	p64(o, st->st_ino);
}

bool p9_name_ok(const char *name)
{
	return name[0] && strcmp(name, ".") && strcmp(name, "..") && !strchr(name, '/');
}

static struct p9_fid *fid_get(struct p9_server *s, uint32_t id)
{
	return id < P9_MAX_FIDS ? s->fids[id] : NULL;
}

static void fid_free(struct p9_server *s, uint32_t id)
{
	struct p9_fid *f = fid_get(s, id);

	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	close(f->dir);
	free(f);
	s->fids[id] = NULL;
	s->nr_fids--;
}

/* Installs a fid owning dir; -errno if id is taken or out of range. */
static int fid_new(struct p9_server *s, uint32_t id, int dir, const char *name)
{
	struct p9_fid *f;

	if (id >= P9_MAX_FIDS || s->fids[id]) {
		close(dir);
		return -EBADF;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(dir);
		return -ENOMEM;
	}
	f->dir = dir;
	f->fd = -1;
	snprintf(f->name, sizeof(f->name), "%s", name);
	s->fids[id] = f;
	s->nr_fids++;
	return 0;
}

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
struct p9_open_how {
	uint64_t flags, mode, resolve;
};

/*
 * Opens one name in dir as a directory (O_PATH), never following a symlink
 * and never leaving the share's filesystem.
 */
static int open_dir_at(struct p9_server *s, int dir, const char *name)
{
	struct p9_open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		/* BENEATH | NO_XDEV | NO_MAGICLINKS | NO_SYMLINKS */
		.resolve = 0x08 | 0x01 | 0x02 | 0x04,
	};
	struct stat st;
	int fd;

	fd = syscall(SYS_openat2, dir, name, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_dev != s->root_dev) {
		close(fd);
		return -EXDEV;
	}
	return fd;
}

/* The directory a fid names, as a new O_PATH fd. */
static int fid_as_dir(struct p9_server *s, struct p9_fid *f)
{
	return open_dir_at(s, f->dir, f->name);
}

static int fid_stat(struct p9_fid *f, struct stat *st)
{
	return fstatat(f->dir, f->name, st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

int p9_server_init(struct p9_server *s, const char *dir, bool readonly)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->root < 0)
		return -errno;
	if (fstat(s->root, &st)) {
		close(s->root);
		return -errno;
	}
	s->root_dev = st.st_dev;
	s->readonly = readonly;
	s->msize = 8192;
	return 0;
}

void p9_server_reset(struct p9_server *s)
{
	for (uint32_t i = 0; i < P9_MAX_FIDS; i++)
		fid_free(s, i);
}

void p9_server_fini(struct p9_server *s)
{
	p9_server_reset(s);
	if (s->root >= 0)
		close(s->root);
	s->root = -1;
}

static int do_walk(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	uint32_t fid = g32(in), newfid = g32(in);
	uint16_t n = g16(in);
	char names[P9_MAXWELEM][256];
	struct p9_fid *f = fid_get(s, fid);
	char cur[256];
	int dir, ret = 0;
	uint16_t done = 0;
	uint8_t *count;

	if (n > P9_MAXWELEM)
		return -E2BIG;
	for (uint16_t i = 0; i < n; i++)
		gstr(in, names[i], sizeof(names[i]));
	if (in->bad)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (newfid != fid && fid_get(s, newfid))
		return -EBADF;
	dir = dup(f->dir);
	if (dir < 0)
		return -errno;
	snprintf(cur, sizeof(cur), "%s", f->name);
	count = put(o, 2);
	for (; done < n; done++) {
		struct stat st;
		int sub;

		if (!p9_name_ok(names[done])) {
			ret = -ENOENT;
			break;
		}
		sub = open_dir_at(s, dir, cur);
		if (sub < 0) {
			ret = sub;
			break;
		}
		if (fstatat(sub, names[done], &st, AT_SYMLINK_NOFOLLOW)) {
			ret = -errno;
			close(sub);
			break;
		}
		close(dir);
		dir = sub;
		memcpy(cur, names[done], sizeof(cur));
		pqid(o, &st);
	}
	if (done < n && done == 0) {
		close(dir);
		return ret;
	}
	if (count) {
		count[0] = done;
		count[1] = done >> 8;
	}
	if (done < n) {		/* a partial walk makes no fid */
		close(dir);
		return 0;
	}
	if (newfid == fid)
		fid_free(s, fid);
	return fid_new(s, newfid, dir, cur);
}

static int open_flags(struct p9_server *s, uint32_t lflags, int *out)
{
	/* The 9P2000.L flags are Linux's own; keep the harmless ones. */
	int acc = lflags & O_ACCMODE;
	int flags = acc | (lflags & (O_APPEND | O_TRUNC | O_DIRECTORY | O_NONBLOCK));

	if (s->readonly && (acc != O_RDONLY || (lflags & (O_TRUNC | O_CREAT))))
		return -EROFS;
	*out = flags | O_NOFOLLOW | O_CLOEXEC;
	return 0;
}

static int do_lopen(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));
	uint32_t lflags = g32(in);
	struct stat st;
	int flags, ret;

	if (in->bad)
		return -EINVAL;
	if (!f || f->fd >= 0)
		return -EBADF;
	ret = open_flags(s, lflags, &flags) ?: fid_stat(f, &st);
	if (ret)
		return ret;
	if (S_ISDIR(st.st_mode)) {
		int d = fid_as_dir(s, f);

		if (d < 0)
			return d;
		f->fd = openat(d, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(d);
	} else if (S_ISREG(st.st_mode)) {
		f->fd = openat(f->dir, f->name, flags);
	} else {
		return -EPERM;	/* no devices, fifos or symlinks opened on the host */
	}
	if (f->fd < 0)
		return f->fd = -1, -errno;
	pqid(o, &st);
	p32(o, 0);
	return 0;
}

static int do_lcreate(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));
	char name[256];
	uint32_t lflags, mode;
	struct stat st;
	int flags, d, fd, ret;

	gstr(in, name, sizeof(name));
	lflags = g32(in);
	mode = g32(in);
	(void)g32(in);
	if (in->bad)
		return -EINVAL;
	if (!f || f->fd >= 0)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	if (!p9_name_ok(name))
		return -EINVAL;
	ret = open_flags(s, lflags, &flags);
	if (ret)
		return ret;
	d = fid_as_dir(s, f);
	if (d < 0)
		return d;
	fd = openat(d, name, flags | O_CREAT | (lflags & O_EXCL), mode & 07777);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		close(d);
		return ret;
	}
	close(f->dir);
	f->dir = d;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->fd = fd;
	pqid(o, &st);
	p32(o, 0);
	return 0;
}

static int do_read(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));
	uint64_t off = g64(in);
	uint32_t count = g32(in);
	uint8_t *cnt, *buf;
	ssize_t n;

	if (in->bad)
		return -EINVAL;
	if (!f || f->fd < 0)
		return -EBADF;
	cnt = put(o, 4);
	if (!cnt || o->cap - o->len < count)
		count = cnt ? o->cap - o->len : 0;
	buf = o->p + o->len;
	n = pread(f->fd, buf, count, off);
	if (n < 0)
		return -errno;
	o->len += n;
	put_le(&(struct p9_out){ .p = cnt, .cap = 4 }, n, 4);
	return 0;
}

static int do_write(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));
	uint64_t off = g64(in);
	uint32_t count = g32(in);
	const uint8_t *data = get(in, count);
	ssize_t n;

	if (in->bad)
		return -EINVAL;
	if (!f || f->fd < 0)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	n = pwrite(f->fd, data, count, off);
	if (n < 0)
		return -errno;
	p32(o, n);
	return 0;
}

static int do_getattr(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));
	struct stat st;
	int ret;

	(void)g64(in);
	if (in->bad)
		return -EINVAL;
	if (!f)
		return -EBADF;
	ret = fid_stat(f, &st);
	if (ret)
		return ret;
	p64(o, 0x3fff);		/* P9_GETATTR_ALL */
	pqid(o, &st);
	p32(o, st.st_mode);
	p32(o, st.st_uid);
	p32(o, st.st_gid);
	p64(o, st.st_nlink);
	p64(o, st.st_rdev);
	p64(o, st.st_size);
	p64(o, st.st_blksize);
	p64(o, st.st_blocks);
	p64(o, st.st_atim.tv_sec);
	p64(o, st.st_atim.tv_nsec);
	p64(o, st.st_mtim.tv_sec);
	p64(o, st.st_mtim.tv_nsec);
	p64(o, st.st_ctim.tv_sec);
	p64(o, st.st_ctim.tv_nsec);
	p64(o, 0);
	p64(o, 0);
	p64(o, 0);
	p64(o, 0);
	return 0;
}

static int do_setattr(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));
	uint32_t valid = g32(in), mode = g32(in), uid = g32(in), gid = g32(in);
	uint64_t size = g64(in);
	struct timespec ts[2];
	struct stat st;
	int ret;

	ts[0].tv_sec = g64(in);
	ts[0].tv_nsec = g64(in);
	ts[1].tv_sec = g64(in);
	ts[1].tv_nsec = g64(in);
	if (in->bad)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	ret = fid_stat(f, &st);
	if (ret)
		return ret;
	if ((valid & 0x1) && !S_ISLNK(st.st_mode) &&
	    fchmodat(f->dir, f->name, mode & 07777, 0))
		return -errno;
	if ((valid & 0x6) && fchownat(f->dir, f->name, valid & 0x2 ? uid : (uid_t)-1,
				      valid & 0x4 ? gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (valid & 0x8) {
		int fd = S_ISREG(st.st_mode) ?
			openat(f->dir, f->name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) : -1;

		if (fd < 0)
			return S_ISREG(st.st_mode) ? -errno : -EINVAL;
		ret = ftruncate(fd, size) ? -errno : 0;
		close(fd);
		if (ret)
			return ret;
	}
	if (valid & 0x30) {
		/* ATIME 0x10, MTIME 0x20, their _SET 0x80 / 0x100 */
		if (!(valid & 0x10))
			ts[0].tv_nsec = UTIME_OMIT;
		else if (!(valid & 0x80))
			ts[0].tv_nsec = UTIME_NOW;
		if (!(valid & 0x20))
			ts[1].tv_nsec = UTIME_OMIT;
		else if (!(valid & 0x100))
			ts[1].tv_nsec = UTIME_NOW;
		if (utimensat(f->dir, f->name, ts, AT_SYMLINK_NOFOLLOW))
			return -errno;
	}
	(void)o;
	return 0;
}

static int do_readdir(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));
	uint64_t off = g64(in);
	uint32_t count = g32(in);
	char buf[8192];
	uint8_t *cnt;
	size_t start;
	long n;

	if (in->bad)
		return -EINVAL;
	if (!f || f->fd < 0)
		return -EBADF;
	cnt = put(o, 4);
	if (!cnt)
		return -ENOMEM;
	start = o->len;
	if (count > o->cap - o->len)
		count = o->cap - o->len;
	if (lseek(f->fd, off, SEEK_SET) < 0)
		return -errno;
	n = syscall(SYS_getdents64, f->fd, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	for (long pos = 0; pos < n;) {
		struct {
			uint64_t ino;
			int64_t off;
			uint16_t reclen;
			uint8_t type;
			char name[];
		} *d = (void *)(buf + pos);
		size_t need = 13 + 8 + 1 + 2 + strlen(d->name);
		struct p9_out sub;

		if (o->len - start + need > count)
			break;
		sub = *o;
		p8(&sub, d->type == DT_DIR ? 0x80 : d->type == DT_LNK ? 0x02 : 0);
		p32(&sub, 0);
		p64(&sub, d->ino);
		p64(&sub, d->off);
		p8(&sub, d->type);
		pstr(&sub, d->name);
		o->len = sub.len;
		pos += d->reclen;
	}
	put_le(&(struct p9_out){ .p = cnt, .cap = 4 }, o->len - start, 4);
	return 0;
}

static int do_statfs(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));
	struct statfs sf;
	int d;

	if (in->bad)
		return -EINVAL;
	if (!f)
		return -EBADF;
	d = fid_as_dir(s, f);
	if (d < 0)
		d = dup(f->dir);
	if (d < 0 || fstatfs(d, &sf)) {
		int ret = -errno;

		if (d >= 0)
			close(d);
		return ret;
	}
	close(d);
	p32(o, sf.f_type);
	p32(o, sf.f_bsize);
	p64(o, sf.f_blocks);
	p64(o, sf.f_bfree);
	p64(o, sf.f_bavail);
	p64(o, sf.f_files);
	p64(o, sf.f_ffree);
	p64(o, 0);
	p32(o, sf.f_namelen);
	return 0;
}

/* dfid + name for the calls that make or remove a name in a directory. */
static int dir_and_name(struct p9_server *s, struct p9_in *in, char *name, int *d)
{
	struct p9_fid *f = fid_get(s, g32(in));

	gstr(in, name, 256);
	if (in->bad)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	if (!p9_name_ok(name))
		return -EINVAL;
	*d = fid_as_dir(s, f);
	return *d < 0 ? *d : 0;
}

static int reply_qid_at(int d, const char *name, struct p9_out *o)
{
	struct stat st;
	int ret = fstatat(d, name, &st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;

	if (!ret)
		pqid(o, &st);
	close(d);
	return ret;
}

static int do_mkdir(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	char name[256];
	int d, ret = dir_and_name(s, in, name, &d);
	uint32_t mode = g32(in);

	(void)g32(in);
	if (ret)
		return ret;
	if (in->bad || mkdirat(d, name, mode & 07777)) {
		ret = in->bad ? -EINVAL : -errno;
		close(d);
		return ret;
	}
	return reply_qid_at(d, name, o);
}

static int do_mknod(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	char name[256];
	int d, ret = dir_and_name(s, in, name, &d);
	uint32_t mode = g32(in);

	(void)g32(in);
	(void)g32(in);
	(void)g32(in);
	if (ret)
		return ret;
	/* Only fifos, sockets and plain files: no device nodes on the host. */
	if (in->bad || !(S_ISFIFO(mode) || S_ISSOCK(mode) || S_ISREG(mode)))
		ret = in->bad ? -EINVAL : -EPERM;
	else if (mknodat(d, name, mode & (S_IFMT | 07777), 0))
		ret = -errno;
	if (ret) {
		close(d);
		return ret;
	}
	return reply_qid_at(d, name, o);
}

static int do_symlink(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	char name[256], target[4096];
	int d, ret = dir_and_name(s, in, name, &d);

	gstr(in, target, sizeof(target));
	(void)g32(in);
	if (ret)
		return ret;
	/* The target is only text to us: we never follow links. */
	if (in->bad || symlinkat(target, d, name)) {
		ret = in->bad ? -EINVAL : -errno;
		close(d);
		return ret;
	}
	return reply_qid_at(d, name, o);
}

static int do_readlink(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));
	char target[4096];
	ssize_t n;

	if (in->bad)
		return -EINVAL;
	if (!f)
		return -EBADF;
	n = readlinkat(f->dir, f->name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	pstr(o, target);
	return 0;
}

static int do_unlinkat(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	char name[256];
	int d, ret = dir_and_name(s, in, name, &d);
	uint32_t flags = g32(in);

	(void)o;
	if (ret)
		return ret;
	ret = in->bad ? -EINVAL : unlinkat(d, name, flags & AT_REMOVEDIR) ? -errno : 0;
	close(d);
	return ret;
}

static int do_renameat(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	char oldname[256], newname[256];
	int od, nd, ret = dir_and_name(s, in, oldname, &od);

	(void)o;
	if (ret)
		return ret;
	ret = dir_and_name(s, in, newname, &nd);
	if (!ret) {
		ret = renameat(od, oldname, nd, newname) ? -errno : 0;
		close(nd);
	}
	close(od);
	return ret;
}

static int do_rename(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));
	char name[256];
	int d, ret = dir_and_name(s, in, name, &d);

	(void)o;
	if (ret)
		return ret;
	if (!f || !strcmp(f->name, ".")) {
		close(d);
		return -EBADF;
	}
	if (renameat(f->dir, f->name, d, name)) {
		ret = -errno;
		close(d);
		return ret;
	}
	close(f->dir);
	f->dir = d;
	snprintf(f->name, sizeof(f->name), "%s", name);
	return 0;
}

static int do_link(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *dfid = fid_get(s, g32(in));
	struct p9_fid *f = fid_get(s, g32(in));
	char name[256];
	int d, ret;

	(void)o;
	gstr(in, name, sizeof(name));
	if (in->bad)
		return -EINVAL;
	if (!dfid || !f)
		return -EBADF;
	if (s->readonly)
		return -EROFS;
	if (!p9_name_ok(name))
		return -EINVAL;
	d = fid_as_dir(s, dfid);
	if (d < 0)
		return d;
	ret = linkat(f->dir, f->name, d, name, 0) ? -errno : 0;
	close(d);
	return ret;
}

static int do_version(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	uint32_t msize = g32(in);
	char version[32];

	gstr(in, version, sizeof(version));
	if (in->bad && !msize)
		return -EINVAL;
	p9_server_reset(s);
	s->msize = msize < 4096 ? 4096 : msize > P9_MSIZE_MAX ? P9_MSIZE_MAX : msize;
	p32(o, s->msize);
	pstr(o, !in->bad && !strcmp(version, "9P2000.L") ? "9P2000.L" : "unknown");
	return 0;
}

static int do_attach(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	uint32_t fid = g32(in);
	char uname[256], aname[256];
	struct stat st;
	int d;

	(void)g32(in);
	gstr(in, uname, sizeof(uname));
	gstr(in, aname, sizeof(aname));
	(void)g32(in);
	if (in->bad)
		return -EINVAL;
	if (fstat(s->root, &st))
		return -errno;
	d = dup(s->root);
	if (d < 0)
		return -errno;
	pqid(o, &st);
	return fid_new(s, fid, d, ".");
}

static int do_fsync(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	struct p9_fid *f = fid_get(s, g32(in));

	(void)o;
	if (in->bad)
		return -EINVAL;
	if (!f || f->fd < 0)
		return -EBADF;
	return fsync(f->fd) ? -errno : 0;
}

/* Locks are advisory and the share has one client: always granted. */
static int do_lock(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	(void)s;
	(void)in;
	p8(o, 0);		/* P9_LOCK_SUCCESS */
	return 0;
}

static int do_getlock(struct p9_server *s, struct p9_in *in, struct p9_out *o)
{
	char client[256];
	uint64_t start, length;
	uint32_t pid;

	(void)s;
	(void)g32(in);
	(void)g8(in);
	start = g64(in);
	length = g64(in);
	pid = g32(in);
	gstr(in, client, sizeof(client));
	if (in->bad)
		return -EINVAL;
	p8(o, 2);		/* F_UNLCK: nothing holds it */
	p64(o, start);
	p64(o, length);
	p32(o, pid);
	pstr(o, client);
	return 0;
}

static int dispatch(struct p9_server *s, uint8_t type, struct p9_in *in, struct p9_out *o)
{
	switch (type) {
	case P9_TVERSION: return do_version(s, in, o);
	case P9_TATTACH: return do_attach(s, in, o);
	case P9_TWALK: return do_walk(s, in, o);
	case P9_TLOPEN: return do_lopen(s, in, o);
	case P9_TLCREATE: return do_lcreate(s, in, o);
	case P9_TREAD: return do_read(s, in, o);
	case P9_TWRITE: return do_write(s, in, o);
	case P9_TCLUNK: {
		uint32_t fid = g32(in);

		if (in->bad)
			return -EINVAL;
		if (!fid_get(s, fid))
			return -EBADF;
		fid_free(s, fid);
		return 0;
	}
	case P9_TREMOVE: return -EOPNOTSUPP;	/* Linux uses unlinkat */
	case P9_TGETATTR: return do_getattr(s, in, o);
	case P9_TSETATTR: return do_setattr(s, in, o);
	case P9_TREADDIR: return do_readdir(s, in, o);
	case P9_TSTATFS: return do_statfs(s, in, o);
	case P9_TMKDIR: return do_mkdir(s, in, o);
	case P9_TMKNOD: return do_mknod(s, in, o);
	case P9_TSYMLINK: return do_symlink(s, in, o);
	case P9_TREADLINK: return do_readlink(s, in, o);
	case P9_TUNLINKAT: return do_unlinkat(s, in, o);
	case P9_TRENAMEAT: return do_renameat(s, in, o);
	case P9_TRENAME: return do_rename(s, in, o);
	case P9_TLINK: return do_link(s, in, o);
	case P9_TFSYNC: return do_fsync(s, in, o);
	case P9_TFLUSH: return 0;	/* requests finish in order, nothing to cancel */
	case P9_TLOCK: return do_lock(s, in, o);
	case P9_TGETLOCK: return do_getlock(s, in, o);
	case P9_TXATTRWALK: case P9_TXATTRCREATE: return -EOPNOTSUPP;
	default: return -EOPNOTSUPP;
	}
}

size_t p9_handle(struct p9_server *s, const uint8_t *req, size_t len, uint8_t *resp, size_t cap)
{
	struct p9_in in = { .p = req, .left = len };
	struct p9_out o = { .p = resp, .cap = cap };
	uint32_t size = g32(&in);
	uint8_t type = g8(&in);
	uint16_t tag = g16(&in);
	int ret;

	if (cap < P9_HDR + 4)
		return 0;
	if (cap > s->msize)
		o.cap = s->msize > P9_HDR + 4 ? s->msize : cap;
	s->requests++;
	o.len = P9_HDR;
	if (in.bad || size < P9_HDR || size > len)
		ret = -EINVAL;
	else {
		in.left = size - P9_HDR;
		ret = (type & 1) ? -EOPNOTSUPP : dispatch(s, type, &in, &o);
	}
	if (!ret && o.full)
		ret = -ENOMEM;
	if (ret) {
		o.full = false;
		o.len = P9_HDR;
		p32(&o, -ret);
		type = P9_RLERROR - 1;
	}
	resp[0] = o.len;
	resp[1] = o.len >> 8;
	resp[2] = o.len >> 16;
	resp[3] = o.len >> 24;
	resp[4] = type + 1;
	resp[5] = tag;
	resp[6] = tag >> 8;
	return o.len;
}
