/* Replays a fuzz corpus as a regression test: every regular file of each
 * folder given goes through the harness's LLVMFuzzerTestOneInput, linked in
 * beside this main. A crash or a sanitizer report ends the process, which
 * scripts/run-tests.sh counts as a failure; otherwise one TAP line per
 * folder. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../src/base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds every regular file of dir; the count through *files. */
static int replay_dir(const char *dir, size_t *files)
{
    *files = 0;
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    struct buf path, data;
    buf_init(&path);
    buf_init(&data);
    while ((e = readdir(d))) {
        buf_reset(&path);
        buf_printf(&path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path.data, &st) || !S_ISREG(st.st_mode)) continue;
        buf_reset(&data);
        if (file_read_all(path.data, &data)) {
            printf("# cannot read %s\n", path.data);
            rc = -1;
            continue;
        }
        /* A copy of exactly the file's size, so ASan sees any read past it. */
        uint8_t *copy = malloc(data.len ? data.len : 1);
        if (!copy) abort();
        memcpy(copy, data.data, data.len);
        LLVMFuzzerTestOneInput(copy, data.len);
        free(copy);
        (*files)++;
    }
    closedir(d);
    buf_free(&path);
    buf_free(&data);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
        return 2;
    }
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        size_t files;
        int rc = replay_dir(argv[i], &files);
        bool ok = rc == 0 && files > 0;
        printf("%sok %d - replay %s (%zu files)\n", ok ? "" : "not ", i, argv[i], files);
        fflush(stdout);
        if (!ok) failed++;
    }
    printf("1..%d\n", argc - 1);
    return failed ? 1 : 0;
}
