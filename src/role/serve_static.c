/* `adtally serve`: the dashboard's static files from --web-dir. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "role/serve.h"
#include "util/log.h"

/* Sent with every file: revalidate, sniff nothing, frame nowhere; the page
 * loads only its own scripts and styles and talks only to this server. */
#define SERVE_FILE_HEADERS                                                     \
    "Cache-Control: no-cache\r\n"                                              \
    "X-Content-Type-Options: nosniff\r\n"                                      \
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "      \
    "frame-ancestors 'none'\r\n"

/* Reads the regular file `fd` whole into sv->out. Returns 0, -1 when it
 * is not a regular file, -2 when it is over --static-max, -3 on a read
 * error. */
static int serve_file_read(struct serve *sv, int fd)
{
    struct stat st;
    size_t got = 0;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    if (st.st_size > sv->o->static_max)
        return -2;
    buf_reset(&sv->out);
    if (buf_reserve(&sv->out, (size_t)st.st_size) != 0)
        return -2;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, sv->out.data + got, (size_t)st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -3;
        got += (size_t)r;
    }
    sv->out.len = got;
    sv->out.data[got] = '\0';
    return 0;
}

void serve_static_file(struct serve *sv, struct http_req *req)
{
    const struct http_head *h = http_req_head(req);
    char name[SERVE_PATH_MAX + 16], path[4096];
    int fd, rc, read_errno;

    if (serve_path_check(h->path, h->path_len, name, sizeof(name)) != 0) {
        serve_answer_error(sv, req, 400, "bad path");
        return;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", sv->o->web_dir, name) >=
        sizeof(path)) {
        serve_answer_error(sv, req, 404, "no such file");
        return;
    }
    /* The checked name has no dot segments; O_NOFOLLOW also refuses a
     * symbolic link as the last part. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        serve_answer_error(sv, req, 404,
                           strcmp(name, "index.html") == 0
                               ? "no dashboard here: build it with `make "
                                 "web` or set --web-dir"
                               : "no such file");
        return;
    }
    rc = serve_file_read(sv, fd);
    read_errno = errno;
    close(fd);
    if (rc == -1) {
        serve_answer_error(sv, req, 404, "no such file");
    } else if (rc == -2) {
        log_warn("serve", "%s is over --static-max (%lld bytes)", path,
                 sv->o->static_max);
        serve_answer_error(sv, req, 500, "file too large to serve");
    } else if (rc == -3) {
        log_error("serve", "cannot read %s: %s", path, strerror(read_errno));
        serve_answer_error(sv, req, 500, "cannot read the file");
    } else {
        sv->files++;
        http_req_respond(req, 200, serve_content_type(name), SERVE_FILE_HEADERS,
                         sv->out.data, sv->out.len);
    }
}
