// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueues (virtio 1.x, 2.7). Everything in the rings is written by
 * the guest and may change under us: indices are read once, bounds-checked,
 * and every buffer is translated through guest_mem_ptr before use.
 */
#include "virtio.h"
#include "../../util.h"

#include <errno.h>
#include <string.h>

#define load_acquire(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define store_release(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))

static bool is_pow2(unsigned int v)
{
	return v && !(v & (v - 1));
}

void virtq_disable(struct virtq *q)
{
	q->ready = false;
	q->gen++;
}

void virtq_reset(struct virtq *q)
{
	int fd = q->notify_fd;
	uint16_t num_max = q->num_max;
	uint64_t gen = q->gen;

	memset(q, 0, sizeof(*q));
	q->notify_fd = fd;
	q->num_max = num_max;
	q->num = num_max;
	q->gen = gen + 1;
}

int virtq_enable(struct virtq *q, const struct guest_mem *mem)
{
	uint64_t desc_len, avail_len, used_len;
	void *desc, *avail, *used;

	if (!is_pow2(q->num) || q->num > q->num_max)
		return -EINVAL;
	/* Alignment the spec requires of each part (2.7). */
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	desc_len = 16ULL * q->num;
	avail_len = 6 + 2ULL * q->num;
	used_len = 6 + 8ULL * q->num;
	desc = guest_mem_ptr(mem, q->desc_gpa, desc_len);
	avail = guest_mem_ptr(mem, q->avail_gpa, avail_len);
	used = guest_mem_ptr(mem, q->used_gpa, used_len);
	if (!desc || !avail || !used)
		return -EINVAL;
	/* A new live ring: nothing popped before belongs to it. */
	q->gen++;
	q->size = q->num;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->mem = mem;
	/* A freshly enabled queue starts at index 0 on both rings (2.7.13). */
	q->last_avail = 0;
	q->used_idx = 0;
	q->ready = true;
	return 0;
}

int virtq_pop(struct virtq *q, const struct guest_mem *mem, struct virtq_elem *elem)
{
	uint16_t avail_idx, head, idx;
	uint64_t out_len = 0, in_len = 0;
	unsigned int count = 0;

	if (!q->ready)
		return 0;
	avail_idx = load_acquire(&q->avail->idx);
	if (avail_idx == q->last_avail)
		return 0;
	/* The driver cannot have more outstanding than the ring holds. */
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return -EINVAL;
	head = READ_ONCE(q->avail->ring[q->last_avail & (q->size - 1)]);
	if (head >= q->size)
		return -EINVAL;

	elem->head = head;
	elem->gen = q->gen;
	elem->n_out = elem->n_in = 0;
	idx = head;
	for (;;) {
		struct virtq_desc d;
		void *buf;

		/* A chain longer than the ring must loop. */
		if (++count > q->size)
			return -EINVAL;
		memcpy(&d, &q->desc[idx], sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;	/* not offered */
		buf = guest_mem_ptr(mem, d.addr, d.len);
		if (!buf)
			return -EINVAL;
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			elem->iov[elem->n_out + elem->n_in].iov_base = buf;
			elem->iov[elem->n_out + elem->n_in].iov_len = d.len;
			elem->n_in++;
			in_len += d.len;
		} else {
			/* Readable buffers must all come before writable ones. */
			if (elem->n_in)
				return -EINVAL;
			elem->iov[elem->n_out].iov_base = buf;
			elem->iov[elem->n_out].iov_len = d.len;
			elem->n_out++;
			out_len += d.len;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= q->size)
			return -EINVAL;
		idx = d.next;
	}
	if (out_len > UINT32_MAX || in_len > UINT32_MAX)
		return -EINVAL;
	elem->out_len = out_len;
	elem->in_len = in_len;
	q->last_avail++;
	return 1;
}

bool virtq_elem_live(const struct virtq *q, const struct virtq_elem *e)
{
	return q->ready && e->gen == q->gen;
}

bool virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t len)
{
	struct virtq_used_elem *u;

	/*
	 * Only into the ring it came from: the driver may have disabled the
	 * queue and written another size or other rings since.
	 */
	if (!virtq_elem_live(q, e))
		return false;
	/*
	 * What the device wrote (its buffers, then the used ring) is dirty for
	 * a migration: KVM's log only sees the guest's writes. Marked before
	 * the index publishes it, so a harvest that follows the guest's view
	 * of the element never misses its pages.
	 */
	for (unsigned int i = e->n_out; i < e->n_out + e->n_in; i++)
		guest_mem_mark_dirty(q->mem, e->iov[i].iov_base, e->iov[i].iov_len);
	u = &q->used->ring[q->used_idx & (q->size - 1)];
	u->id = e->head;
	u->len = len;
	q->used_idx++;
	guest_mem_mark_dirty(q->mem, q->used, 6 + 8ULL * q->size);
	/* The element must be visible before the index that publishes it. */
	store_release(&q->used->idx, q->used_idx);
	return true;
}

bool virtq_has_avail(struct virtq *q)
{
	return q->ready && load_acquire(&q->avail->idx) != q->last_avail;
}

bool virtq_needs_interrupt(struct virtq *q)
{
	/* Order our used->idx store before reading the driver's flags. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(READ_ONCE(q->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copy between a flat buffer and [offset, offset + len) of an iovec array. */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t offset, void *buf,
		       size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		char *part;
		size_t chunk;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		part = (char *)iov[i].iov_base + offset;
		chunk = MIN(iov[i].iov_len - offset, len - done);
		if (to_iov)
			memcpy(part, (char *)buf + done, chunk);
		else
			memcpy((char *)buf + done, part, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t offset, void *buf, size_t len)
{
	return iov_copy(iov, n, offset, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t offset, const void *buf,
		    size_t len)
{
	return iov_copy(iov, n, offset, (void *)buf, len, true);
}
