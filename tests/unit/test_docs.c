// SPDX-License-Identifier: GPL-2.0
/*
 * The manual page (docs/lvmm.1) and the bash completion
 * (completion/lvmm.bash) kept in step with "lvmm run --help": every long
 * option of --help is in both, and every option the manual documents under
 * RUN OPTIONS is in --help. The tests run from the source tree's top.
 */
#include "test.h"
#include "../../options.h"
#include "../../util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 128

struct optset {
	char name[MAX_OPTS][32];
	unsigned int n;
};

static void add(struct optset *s, const char *name, size_t len)
{
	if (len >= sizeof(s->name[0]) || s->n == MAX_OPTS)
		return;
	for (unsigned int i = 0; i < s->n; i++)
		if (strlen(s->name[i]) == len && !strncmp(s->name[i], name, len))
			return;
	memcpy(s->name[s->n], name, len);
	s->name[s->n++][len] = '\0';
}

static bool has(const struct optset *s, const char *name)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return true;
	return false;
}

/* Every "--word" in text (roff's "\-" read as "-"). */
static void scan(const char *text, struct optset *s)
{
	char plain[65536];
	size_t n = 0;

	for (const char *p = text; *p && n < sizeof(plain) - 1; p++) {
		if (p[0] == '\\' && p[1] == '-')
			p++;
		plain[n++] = *p;
	}
	plain[n] = '\0';
	for (const char *p = plain; (p = strstr(p, "--")); ) {
		const char *q = p + 2;

		while (islower((unsigned char)*q) || isdigit((unsigned char)*q) ||
		       (*q == '-' && islower((unsigned char)q[1])))
			q++;
		if (q > p + 2 && (p == plain || !isalnum((unsigned char)p[-1])))
			add(s, p + 2, q - p - 2);
		p = q;
	}
}

static char *slurp(const char *path)
{
	void *buf = NULL;
	size_t len;

	char *text;

	if (read_file(path, &buf, &len))
		return NULL;
	/* read_file gives the bytes only: a string needs its NUL. */
	text = realloc(buf, len + 1);
	if (!text) {
		free(buf);
		return NULL;
	}
	text[len] = '\0';
	return text;
}

static void run_help(struct optset *s)
{
	char *text = NULL, *cut, *refused;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	options_usage_run(f);
	fclose(f);
	/* The lkvm options it refuses are examples, not lvmm's options. */
	cut = strstr(text, "Every other lkvm run option");
	if (cut && (refused = strstr(cut, "refused")))
		memset(cut, ' ', refused - cut);
	scan(text, s);
	free(text);
}

TEST(docs_man_page_and_completion_match_help)
{
	struct optset help = { 0 }, man = { 0 }, man_run = { 0 }, comp = { 0 };
	char *page = slurp("docs/lvmm.1"), *completion = slurp("completion/lvmm.bash");
	char *start, *end;

	if (!CHECK(page) || !CHECK(completion))
		goto out;
	run_help(&help);
	CHECK(help.n > 20);
	scan(page, &man);
	scan(completion, &comp);
	for (unsigned int i = 0; i < help.n; i++) {
		if (!has(&man, help.name[i]))
			FAIL("--%s is in lvmm run --help but not in docs/lvmm.1", help.name[i]);
		if (!has(&comp, help.name[i]))
			FAIL("--%s is in lvmm run --help but not in completion/lvmm.bash", help.name[i]);
	}
	/* The other way: what the manual gives as run options. */
	start = strstr(page, "\n.SH RUN OPTIONS");
	end = start ? strstr(start + 1, "\n.SH ") : NULL;
	if (!CHECK(start && end))
		goto out;
	*end = '\0';
	scan(start, &man_run);
	for (unsigned int i = 0; i < man_run.n; i++)
		if (!has(&help, man_run.name[i]))
			FAIL("--%s is under RUN OPTIONS in docs/lvmm.1 but not in lvmm run --help",
			     man_run.name[i]);
out:
	free(page);
	free(completion);
}
