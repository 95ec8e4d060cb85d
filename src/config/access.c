/* config: users, API tokens and the access they give.
 *
 * users.json  {"users":[{"name":"alice","password_hash":"$argon2id$...",
 *              "superuser":false,"access":{"1":"view","3":"write"},
 *              "created_ms":...}]}
 * tokens.json {"tokens":[{"user":"alice","hash":"<64 hex>","created_ms":...},
 *              {"site":1,"hash":"<64 hex>","created_ms":...}]}
 *
 * A token names its owner, not its rights: a user's token follows the
 * user's access as users.json says at each request, so `tally user grant`
 * takes effect on tokens already given out. The older site-bound tokens
 * ({"site":N}, from `tally token create --site N`) keep loading and have
 * write access to their one site. Both files are mode 0600. */
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../base/base.h"
#include "internal.h"

#define TOKEN_HEX_LEN 32
#define TOKEN_HASH_LEN crypto_generichash_BYTES /* 32 */

/* Argon2id at libsodium's INTERACTIVE limits: 2 passes over 64 MiB, about
 * 0.17 s on the reference machine, against 0.7 s and 256 MiB for MODERATE
 * (docs/access.md has the measurement and the reasoning). The parameters
 * are stored in each hash, so raising them later leaves old hashes valid. */
#define PASSWORD_OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PASSWORD_MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

/* A hash of a random password nobody knows, made with the parameters
 * above: checking a password for an unknown user verifies against it, so
 * an unknown name takes as long as a wrong password. */
static const char unknown_user_hash[crypto_pwhash_STRBYTES] =
    "$argon2id$v=19$m=65536,t=2,p=1$jjVSSKlwI1pSAgRDI5vAJg$"
    "WN3UefwZH9/uOpp9G7O8HsHE2zxQkKvUM+WLAoz+Kck";

static int sodium_ready(char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return -EIO;
    }
    return 0;
}

/* ---- access levels ---- */

static const char *const access_names[] = {"none", "view", "write", "admin", "superuser"};

const char *access_name(enum access access)
{
    return access <= ACCESS_SUPERUSER ? access_names[access] : "none";
}

int access_parse(const char *text, enum access *out)
{
    for (enum access a = ACCESS_NONE; a <= ACCESS_ADMIN; a++) {
        if (strcmp(text, access_names[a]) == 0) {
            *out = a;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- users ---- */

static bool user_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    /* A leading letter or digit: a name never reads as a flag. */
    if (len == 0 || len > USER_NAME_MAX ||
        !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
          (name[0] >= '0' && name[0] <= '9')))
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("._-@", c)))
            return false;
    }
    return true;
}

static int user_name_check(const char *name, char *err, size_t errlen)
{
    if (user_name_valid(name)) return 0;
    snprintf(err, errlen,
             "user name '%.80s': expected 1 to %d letters, digits, '.', '_', '-' or '@', "
             "starting with a letter or digit",
             name ? name : "", USER_NAME_MAX);
    return -EINVAL;
}

static int password_check(const char *password, char *err, size_t errlen)
{
    size_t len = strlen(password);
    if (len > USER_PASSWORD_MAX) {
        snprintf(err, errlen, "the password is longer than %d bytes", USER_PASSWORD_MAX);
        return -EINVAL;
    }
    if (!utf8_valid(password, len)) {
        snprintf(err, errlen, "the password is not valid UTF-8");
        return -EINVAL;
    }
    size_t chars = 0;
    for (const char *p = password; *p; p++)
        chars += ((unsigned char)*p & 0xc0) != 0x80; /* continuation bytes do not count */
    if (chars < USER_PASSWORD_MIN) {
        snprintf(err, errlen, "the password must be at least %d characters long, got %zu",
                 USER_PASSWORD_MIN, chars);
        return -EINVAL;
    }
    return 0;
}

static void user_free_fields(struct user *u)
{
    free(u->name);
    free(u->password_hash);
    free(u->grants);
    memset(u, 0, sizeof *u);
}

void users_free(struct users *users)
{
    if (!users) return;
    for (size_t i = 0; i < users->count; i++)
        user_free_fields(&users->items[i]);
    free(users->items);
    free(users);
}

static struct user *users_find_mutable(const struct users *users, const char *name)
{
    if (!users || !name) return NULL;
    for (size_t i = 0; i < users->count; i++)
        if (strcmp(users->items[i].name, name) == 0) return &users->items[i];
    return NULL;
}

const struct user *users_find(const struct users *users, const char *name)
{
    return users_find_mutable(users, name);
}

enum access user_access(const struct user *user, uint32_t site_id)
{
    if (user->superuser) return ACCESS_SUPERUSER;
    for (size_t i = 0; i < user->grant_count; i++)
        if (user->grants[i].site_id == site_id) return user->grants[i].access;
    return ACCESS_NONE;
}

/* Sets (or, with ACCESS_NONE, removes) the user's grant on site_id,
 * keeping grants ordered by site. */
static void user_set_grant(struct user *u, uint32_t site_id, enum access access)
{
    size_t i = 0;
    while (i < u->grant_count && u->grants[i].site_id < site_id)
        i++;
    bool present = i < u->grant_count && u->grants[i].site_id == site_id;
    if (access == ACCESS_NONE) {
        if (!present) return;
        memmove(&u->grants[i], &u->grants[i + 1], (u->grant_count - i - 1) * sizeof *u->grants);
        u->grant_count--;
        return;
    }
    if (!present) {
        u->grants = realloc(u->grants, (u->grant_count + 1) * sizeof *u->grants);
        if (!u->grants) abort();
        memmove(&u->grants[i + 1], &u->grants[i], (u->grant_count - i) * sizeof *u->grants);
        u->grant_count++;
    }
    u->grants[i] = (struct user_grant){.site_id = site_id, .access = access};
}

/* Reads one user object, refusing what `tally user add` would not write. */
static int user_from_json(json_t *obj, size_t index, struct user *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *name = config_json_str(obj, "name", NULL);
    const char *hash = config_json_str(obj, "password_hash", "");
    if (!json_is_object(obj) || !user_name_valid(name)) {
        snprintf(err, errlen, "users.json: user #%zu needs a valid \"name\"", index + 1);
        return -EINVAL;
    }
    if (strncmp(hash, "$argon2id$", 10) != 0 || strlen(hash) >= crypto_pwhash_STRBYTES) {
        snprintf(err, errlen,
                 "users.json: user %s: \"password_hash\" must be an Argon2id string "
                 "(\"$argon2id$...\", as `tally user add` writes)",
                 name);
        return -EINVAL;
    }
    json_t *access = json_object_get(obj, "access");
    if (access && !json_is_object(access)) {
        snprintf(err, errlen, "users.json: user %s: \"access\" must be an object {\"1\":\"view\"}",
                 name);
        return -EINVAL;
    }
    out->name = config_strdup(name);
    out->password_hash = config_strdup(hash);
    out->superuser = json_is_true(json_object_get(obj, "superuser"));
    json_t *created = json_object_get(obj, "created_ms");
    out->created_ms = json_is_integer(created) ? json_integer_value(created) : 0;
    const char *key;
    json_t *value;
    json_object_foreach(access, key, value)
    {
        int64_t site_id;
        enum access level;
        if (parse_i64(key, 1, UINT32_MAX, &site_id) || !json_is_string(value) ||
            access_parse(json_string_value(value), &level)) {
            snprintf(err, errlen,
                     "users.json: user %s: access \"%.20s\" must map a site id to "
                     "\"view\", \"write\" or \"admin\"",
                     name, key);
            user_free_fields(out);
            return -EINVAL;
        }
        user_set_grant(out, (uint32_t)site_id, level);
    }
    return 0;
}

int users_load(const char *data_dir, struct users **out, char *err, size_t errlen)
{
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "users.json");
    json_t *root;
    int rc = config_json_read(path, &root, err, errlen);
    if (rc) return rc;
    struct users *users = calloc(1, sizeof *users);
    if (!users) abort();
    json_t *arr = root ? json_object_get(root, "users") : NULL;
    if (root && !json_is_array(arr)) {
        snprintf(err, errlen, "users.json: expected {\"users\": [...]}");
        rc = -EINVAL;
    }
    size_t n = arr ? json_array_size(arr) : 0;
    if (!rc && n) {
        users->items = calloc(n, sizeof *users->items);
        if (!users->items) abort();
    }
    for (size_t i = 0; !rc && i < n; i++) {
        rc = user_from_json(json_array_get(arr, i), i, &users->items[i], err, errlen);
        if (!rc && users_find(users, users->items[i].name)) {
            snprintf(err, errlen, "users.json: user %s appears twice", users->items[i].name);
            user_free_fields(&users->items[i]);
            rc = -EINVAL;
        }
        if (!rc) users->count++;
    }
    json_decref(root);
    if (rc) {
        users_free(users);
        return rc;
    }
    *out = users;
    return 0;
}

static json_t *user_to_json(const struct user *u)
{
    json_t *access = json_object();
    for (size_t i = 0; i < u->grant_count; i++) {
        char key[16];
        snprintf(key, sizeof key, "%u", u->grants[i].site_id);
        json_object_set_new(access, key, json_string(access_name(u->grants[i].access)));
    }
    return json_pack("{s:s, s:s, s:b, s:o, s:I}", "name", u->name, "password_hash",
                     u->password_hash, "superuser", u->superuser, "access", access, "created_ms",
                     (json_int_t)u->created_ms);
}

static int users_write(const char *data_dir, const struct users *users, char *err, size_t errlen)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < users->count; i++)
        json_array_append_new(arr, user_to_json(&users->items[i]));
    json_t *root = json_pack("{s:o}", "users", arr);
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "users.json");
    /* Password hashes: nobody else needs to read them. */
    int rc = config_json_write(path, root, 0600, err, errlen);
    json_decref(root);
    return rc;
}

int users_add(const char *data_dir, const char *name, const char *password, bool superuser,
              char *err, size_t errlen)
{
    int rc = user_name_check(name, err, errlen);
    if (!rc) rc = password_check(password, err, errlen);
    if (!rc) rc = sodium_ready(err, errlen);
    if (rc) return rc;
    /* Hashed before taking the lock: it is the slow part. */
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), PASSWORD_OPSLIMIT,
                          PASSWORD_MEMLIMIT)) {
        snprintf(err, errlen, "cannot hash the password: out of memory (Argon2id needs %zu MiB)",
                 (size_t)PASSWORD_MEMLIMIT >> 20);
        return -ENOMEM;
    }
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    struct users *users = NULL;
    rc = users_load(data_dir, &users, err, errlen);
    for (size_t i = 0; !rc && i < users->count; i++) {
        /* Names differing only in case would be told apart by nobody. */
        if (strcasecmp(users->items[i].name, name) == 0) {
            snprintf(err, errlen, "a user named %s already exists", users->items[i].name);
            rc = -EEXIST;
        }
    }
    if (!rc) {
        users->items = realloc(users->items, (users->count + 1) * sizeof *users->items);
        if (!users->items) abort();
        users->items[users->count++] = (struct user){.name = config_strdup(name),
                                                     .password_hash = config_strdup(hash),
                                                     .superuser = superuser,
                                                     .created_ms = now_ms()};
        rc = users_write(data_dir, users, err, errlen);
    }
    users_free(users);
    close(lock);
    return rc;
}

int users_grant(const char *data_dir, const char *name, uint32_t site_id, enum access access,
                char *err, size_t errlen)
{
    if (access > ACCESS_ADMIN) {
        snprintf(err, errlen, "--access: expected view, write, admin or none");
        return -EINVAL;
    }
    int rc = user_name_check(name, err, errlen);
    if (rc) return rc;
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    struct sites *sites = NULL;
    struct users *users = NULL;
    rc = sites_load(data_dir, &sites, err, errlen);
    if (!rc && !sites_find(sites, site_id)) {
        snprintf(err, errlen, "--site: no site with id %u; `tally site list` shows the sites",
                 site_id);
        rc = -ENOENT;
    }
    if (!rc) rc = users_load(data_dir, &users, err, errlen);
    struct user *user = rc ? NULL : users_find_mutable(users, name);
    if (!rc && !user) {
        snprintf(err, errlen, "no user named %s; `tally user list` shows the users", name);
        rc = -ENOENT;
    }
    if (!rc) {
        user_set_grant(user, site_id, access);
        rc = users_write(data_dir, users, err, errlen);
    }
    users_free(users);
    sites_free(sites);
    close(lock);
    return rc;
}

int password_verify(const char *password_hash, const char *password)
{
    if (sodium_init() < 0 || !password || strlen(password) > USER_PASSWORD_MAX) return -EACCES;
    int rc = crypto_pwhash_str_verify(password_hash ? password_hash : unknown_user_hash, password,
                                      strlen(password));
    return password_hash && rc == 0 ? 0 : -EACCES;
}

int users_check_password(const struct users *users, const char *name, const char *password)
{
    const struct user *user = users_find(users, name);
    return password_verify(user ? user->password_hash : NULL, password);
}

/* Loads users.json under the config lock, hands the user named name to
 * change (which edits it in place; a non-zero return cancels), and writes
 * the file back. -ENOENT when there is no such user. */
static int users_edit(const char *data_dir, const char *name,
                      int (*change)(struct users *users, struct user *user, void *arg), void *arg,
                      char *err, size_t errlen)
{
    int rc = user_name_check(name, err, errlen);
    if (rc) return rc;
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    struct users *users = NULL;
    rc = users_load(data_dir, &users, err, errlen);
    struct user *user = rc ? NULL : users_find_mutable(users, name);
    if (!rc && !user) {
        snprintf(err, errlen, "no user named %s; `tally user list` shows the users", name);
        rc = -ENOENT;
    }
    if (!rc) rc = change(users, user, arg);
    if (!rc) rc = users_write(data_dir, users, err, errlen);
    users_free(users);
    close(lock);
    return rc;
}

static int set_password_hash(struct users *users, struct user *user, void *hash)
{
    (void)users;
    free(user->password_hash);
    user->password_hash = config_strdup(hash);
    return 0;
}

int users_set_password(const char *data_dir, const char *name, const char *password, char *err,
                       size_t errlen)
{
    int rc = password_check(password, err, errlen);
    if (!rc) rc = sodium_ready(err, errlen);
    if (rc) return rc;
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), PASSWORD_OPSLIMIT,
                          PASSWORD_MEMLIMIT)) {
        snprintf(err, errlen, "cannot hash the password: out of memory (Argon2id needs %zu MiB)",
                 (size_t)PASSWORD_MEMLIMIT >> 20);
        return -ENOMEM;
    }
    return users_edit(data_dir, name, set_password_hash, hash, err, errlen);
}

static int remove_user(struct users *users, struct user *user, void *arg)
{
    (void)arg;
    size_t i = (size_t)(user - users->items);
    user_free_fields(user);
    memmove(&users->items[i], &users->items[i + 1], (users->count - i - 1) * sizeof *user);
    users->count--;
    return 0;
}

static int tokens_drop_user(const char *data_dir, const char *name, char *err, size_t errlen);

int users_delete(const char *data_dir, const char *name, char *err, size_t errlen)
{
    int rc = users_edit(data_dir, name, remove_user, NULL, err, errlen);
    /* Already worth nothing (a token's user must exist), but a user added
     * later under the same name must not inherit them. */
    if (!rc) rc = tokens_drop_user(data_dir, name, err, errlen);
    return rc;
}

/* ---- tokens ---- */

struct token_entry {
    uint32_t id;       /* from 1, never reused; 0 for a session's */
    uint32_t site_id;  /* a site token's site, 0 for a user's token */
    char *user;        /* a user's token's owner, NULL for a site token */
    char *description; /* "" when none; NULL for a session's */
    unsigned char hash[TOKEN_HASH_LEN];
    int64_t created_ms; /* 0: not recorded */
    int64_t expires_ms; /* 0: never */
    bool transient;     /* a dashboard session's: in memory only, never in tokens.json */
};

struct tokens {
    struct token_entry *items;
    /* Beside items, one per entry: when it last authenticated. Access
     * checks read a snapshot through a const pointer and note uses here,
     * atomically, without a disk write per request. */
    _Atomic int64_t *last_used_ms;
    size_t count;
    uint32_t last_id; /* the highest id ever given: never given again */
};

static void token_entry_free(struct token_entry *e)
{
    free(e->user);
    free(e->description);
}

void tokens_free(struct tokens *tokens)
{
    if (!tokens) return;
    for (size_t i = 0; i < tokens->count; i++)
        token_entry_free(&tokens->items[i]);
    free(tokens->items);
    free(tokens->last_used_ms);
    free(tokens);
}

/* Room for one more entry at the end (never used yet). */
static struct token_entry *tokens_grow(struct tokens *tokens)
{
    struct token_entry *items = realloc(tokens->items, (tokens->count + 1) * sizeof *items);
    if (!items) abort();
    tokens->items = items;
    _Atomic int64_t *used =
        realloc(tokens->last_used_ms, (tokens->count + 1) * sizeof *tokens->last_used_ms);
    if (!used) abort();
    tokens->last_used_ms = used;
    atomic_init(&tokens->last_used_ms[tokens->count], 0);
    memset(&items[tokens->count], 0, sizeof *items);
    return &items[tokens->count++];
}

static void tokens_remove_at(struct tokens *tokens, size_t i)
{
    token_entry_free(&tokens->items[i]);
    size_t after = tokens->count - i - 1;
    memmove(&tokens->items[i], &tokens->items[i + 1], after * sizeof *tokens->items);
    for (size_t k = i; k < i + after; k++)
        atomic_store(&tokens->last_used_ms[k], atomic_load(&tokens->last_used_ms[k + 1]));
    tokens->count--;
}

static bool token_well_formed(const char *token)
{
    if (!token || strlen(token) != TOKEN_HEX_LEN) return false;
    for (const char *p = token; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

static void token_hash(const char *token, unsigned char out[TOKEN_HASH_LEN])
{
    crypto_generichash(out, TOKEN_HASH_LEN, (const unsigned char *)token, strlen(token), NULL, 0);
}

/* A new random token in token_out and its hash in hash. */
static void token_generate(char token_out[33], unsigned char hash[TOKEN_HASH_LEN])
{
    unsigned char raw[TOKEN_HEX_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token_out, 33, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    token_hash(token_out, hash);
}

/* A time in ms from JSON: absent is 0, else a non-negative integer. */
static int ms_from_json(json_t *v, int64_t *out)
{
    *out = 0;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -EINVAL;
    *out = json_integer_value(v);
    return 0;
}

/* One entry of tokens.json: exactly one owner ("site" or "user") and a
 * hash; "id", "description", "created_ms" and "expires_ms" may be absent
 * (files written before tokens had them). */
static int token_from_json(json_t *e, const char *path, size_t index, struct token_entry *out,
                           char *err, size_t errlen)
{
    json_t *site = json_object_get(e, "site");
    json_t *id = json_object_get(e, "id");
    const char *user = config_json_str(e, "user", NULL);
    const char *hex = config_json_str(e, "hash", "");
    const char *description = config_json_str(e, "description", "");
    size_t bin_len = 0;
    bool site_ok = json_is_integer(site) && json_integer_value(site) >= 1 &&
                   json_integer_value(site) <= UINT32_MAX;
    if (site_ok == user_name_valid(user) || strlen(hex) != 2 * TOKEN_HASH_LEN ||
        sodium_hex2bin(out->hash, sizeof out->hash, hex, strlen(hex), NULL, &bin_len, NULL) ||
        bin_len != TOKEN_HASH_LEN) {
        snprintf(err, errlen,
                 "%s: token #%zu needs either a positive \"site\" or a valid \"user\", and a "
                 "64-hex \"hash\"",
                 path, index + 1);
        return -EINVAL;
    }
    char why[160];
    if ((id && config_id_from_json(id, &out->id)) ||
        ms_from_json(json_object_get(e, "created_ms"), &out->created_ms) ||
        ms_from_json(json_object_get(e, "expires_ms"), &out->expires_ms)) {
        snprintf(err, errlen,
                 "%s: token #%zu: \"id\" must be a positive integer, \"created_ms\" and "
                 "\"expires_ms\" non-negative integers",
                 path, index + 1);
        return -EINVAL;
    }
    if (config_text_check("description", description, TOKEN_DESCRIPTION_MAX, why, sizeof why)) {
        snprintf(err, errlen, "%s: token #%zu: %s", path, index + 1, why);
        return -EINVAL;
    }
    out->site_id = site_ok ? (uint32_t)json_integer_value(site) : 0;
    out->user = site_ok ? NULL : config_strdup(user);
    out->description = config_strdup(description);
    return 0;
}

/* Reads every entry of arr; then gives each entry without an id (written
 * before tokens had ids) the next one after every id the file holds, in
 * file order: the same file always gets the same ids, and the first
 * rewrite stores them. */
static int tokens_from_json(json_t *root, const char *path, struct tokens *tokens, char *err,
                            size_t errlen)
{
    json_t *arr = json_object_get(root, "tokens");
    json_t *last_id = json_object_get(root, "last_id");
    if (!json_is_array(arr) ||
        (last_id && (!json_is_integer(last_id) || json_integer_value(last_id) < 0 ||
                     json_integer_value(last_id) > UINT32_MAX))) {
        snprintf(err, errlen, "%s: expected {\"last_id\": N, \"tokens\": [...]}", path);
        return -EINVAL;
    }
    if (last_id) tokens->last_id = (uint32_t)json_integer_value(last_id);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct token_entry *e = tokens_grow(tokens);
        int rc = token_from_json(json_array_get(arr, i), path, i, e, err, errlen);
        if (rc) {
            tokens->count--;
            return rc;
        }
        for (size_t k = 0; e->id && k + 1 < tokens->count; k++) {
            if (tokens->items[k].id == e->id) {
                snprintf(err, errlen, "%s: token id %u appears twice", path, e->id);
                return -EINVAL;
            }
        }
        if (e->id > tokens->last_id) tokens->last_id = e->id;
    }
    for (size_t i = 0; i < tokens->count; i++) {
        if (tokens->items[i].id) continue;
        if (tokens->last_id == UINT32_MAX) {
            snprintf(err, errlen, "%s: every token id has been given", path);
            return -EOVERFLOW;
        }
        tokens->items[i].id = ++tokens->last_id;
    }
    return 0;
}

int tokens_load(const char *data_dir, struct tokens **out, char *err, size_t errlen)
{
    int rc = sodium_ready(err, errlen);
    if (rc) return rc;
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "tokens.json");
    json_t *root;
    rc = config_json_read(path, &root, err, errlen);
    if (rc) return rc;
    struct tokens *tokens = calloc(1, sizeof *tokens);
    if (!tokens) abort();
    if (root) rc = tokens_from_json(root, path, tokens, err, errlen);
    json_decref(root);
    if (rc) {
        tokens_free(tokens);
        return rc;
    }
    *out = tokens;
    return 0;
}

static json_t *token_to_json(const struct token_entry *e)
{
    char hash_hex[2 * TOKEN_HASH_LEN + 1];
    sodium_bin2hex(hash_hex, sizeof hash_hex, e->hash, sizeof e->hash);
    json_t *obj = json_pack("{s:I}", "id", (json_int_t)e->id);
    if (e->user) json_object_set_new(obj, "user", json_string(e->user));
    else json_object_set_new(obj, "site", json_integer(e->site_id));
    json_object_set_new(obj, "description", json_string(e->description));
    json_object_set_new(obj, "hash", json_string(hash_hex));
    if (e->created_ms) json_object_set_new(obj, "created_ms", json_integer(e->created_ms));
    if (e->expires_ms) json_object_set_new(obj, "expires_ms", json_integer(e->expires_ms));
    return obj;
}

/* Loads tokens.json, hands it to change and writes it back, unless change
 * returns non-zero: negative cancels with that error, positive says that
 * nothing changed. The config lock must be held. */
static int tokens_edit_locked(const char *data_dir,
                              int (*change)(struct tokens *tokens, void *arg, char *err,
                                            size_t errlen),
                              void *arg, char *err, size_t errlen)
{
    struct tokens *tokens = NULL;
    int rc = tokens_load(data_dir, &tokens, err, errlen);
    if (!rc) rc = change(tokens, arg, err, errlen);
    if (rc > 0) {
        rc = 0;
    } else if (!rc) {
        json_t *arr = json_array();
        for (size_t i = 0; i < tokens->count; i++)
            json_array_append_new(arr, token_to_json(&tokens->items[i]));
        json_t *root = json_pack("{s:I, s:o}", "last_id", (json_int_t)tokens->last_id,
                                 "tokens", arr);
        char path[PATH_MAX];
        config_path(path, sizeof path, data_dir, "tokens.json");
        /* Hashes only, but nobody else needs to read them. */
        rc = config_json_write(path, root, 0600, err, errlen);
        json_decref(root);
    }
    tokens_free(tokens);
    return rc;
}

/* What tokens_create hands tokens_edit_locked. */
struct token_creation {
    const struct token_draft *draft;
    char *token_out;
    uint32_t id;
};

static int append_token(struct tokens *tokens, void *arg, char *err, size_t errlen)
{
    struct token_creation *c = arg;
    if (tokens->last_id == UINT32_MAX) {
        snprintf(err, errlen, "every token id has been given");
        return -EOVERFLOW;
    }
    struct token_entry *e = tokens_grow(tokens);
    e->id = c->id = ++tokens->last_id;
    e->site_id = c->draft->user ? 0 : c->draft->site_id;
    e->user = c->draft->user ? config_strdup(c->draft->user) : NULL;
    e->description = config_strdup(c->draft->description ? c->draft->description : "");
    e->created_ms = now_ms();
    e->expires_ms = c->draft->expires_ms;
    token_generate(c->token_out, e->hash);
    return 0;
}

/* The owner named by draft exists; config lock held. */
static int token_owner_check(const char *data_dir, const struct token_draft *draft, char *err,
                             size_t errlen)
{
    int rc = 0;
    if (draft->user) {
        struct users *users = NULL;
        rc = users_load(data_dir, &users, err, errlen);
        if (!rc && !users_find(users, draft->user)) {
            snprintf(err, errlen, "no user named %s; `tally user list` shows the users",
                     draft->user);
            rc = -ENOENT;
        }
        users_free(users);
        return rc;
    }
    struct sites *sites = NULL;
    rc = sites_load(data_dir, &sites, err, errlen);
    if (!rc && !sites_find(sites, draft->site_id)) {
        snprintf(err, errlen, "no site with id %u; `tally site list` shows the sites",
                 draft->site_id);
        rc = -ENOENT;
    }
    sites_free(sites);
    return rc;
}

int tokens_create(const char *data_dir, const struct token_draft *draft, char token_out[33],
                  uint32_t *id_out, char *err, size_t errlen)
{
    int rc = sodium_ready(err, errlen);
    if (rc) return rc;
    if (!draft->user == !draft->site_id) {
        snprintf(err, errlen, "a token acts as one user or has write access to one site");
        return -EINVAL;
    }
    if (draft->user && (rc = user_name_check(draft->user, err, errlen))) return rc;
    if (draft->description &&
        (rc = config_text_check("description", draft->description, TOKEN_DESCRIPTION_MAX, err,
                                errlen)))
        return rc;
    if (draft->expires_ms < 0 || (draft->expires_ms && draft->expires_ms <= now_ms())) {
        snprintf(err, errlen, "the token would expire before it is made");
        return -EINVAL;
    }
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    struct token_creation c = {.draft = draft, .token_out = token_out};
    rc = token_owner_check(data_dir, draft, err, errlen);
    if (!rc) rc = tokens_edit_locked(data_dir, append_token, &c, err, errlen);
    close(lock);
    if (rc) sodium_memzero(token_out, 33);
    if (!rc && id_out) *id_out = c.id;
    return rc;
}

/* What tokens_delete hands tokens_edit_locked. */
struct token_deletion {
    uint32_t id;
    const char *user;
};

static int remove_token(struct tokens *tokens, void *arg, char *err, size_t errlen)
{
    const struct token_deletion *d = arg;
    for (size_t i = 0; i < tokens->count; i++) {
        const struct token_entry *e = &tokens->items[i];
        if (e->id != d->id) continue;
        if (d->user && (!e->user || strcmp(e->user, d->user) != 0)) break;
        tokens_remove_at(tokens, i);
        return 0;
    }
    if (d->user)
        snprintf(err, errlen, "%s has no token with id %u; UsersManager.getTokens lists them",
                 d->user, d->id);
    else
        snprintf(err, errlen, "no token with id %u; `tally token list` shows them", d->id);
    return -ENOENT;
}

int tokens_delete(const char *data_dir, uint32_t id, const char *user, char *err, size_t errlen)
{
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    struct token_deletion d = {.id = id, .user = user};
    int rc = tokens_edit_locked(data_dir, remove_token, &d, err, errlen);
    close(lock);
    return rc;
}

static int remove_user_tokens(struct tokens *tokens, void *name, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    size_t before = tokens->count;
    for (size_t i = tokens->count; i-- > 0;)
        if (tokens->items[i].user && strcmp(tokens->items[i].user, name) == 0)
            tokens_remove_at(tokens, i);
    return tokens->count == before; /* 1: nothing to write */
}

/* Removes every token of the user name from tokens.json. */
static int tokens_drop_user(const char *data_dir, const char *name, char *err, size_t errlen)
{
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    int rc = tokens_edit_locked(data_dir, remove_user_tokens, (void *)name, err, errlen);
    close(lock);
    return rc;
}

/* "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" (UTC) as ms; -EINVAL otherwise. */
static int parse_datetime_ms(const char *text, int64_t *out)
{
    char day_text[11];
    int64_t day, h = 0, m = 0, s = 0;
    size_t len = strlen(text);
    if (len != 10 && len != 19) return -EINVAL;
    snprintf(day_text, sizeof day_text, "%.10s", text);
    if (parse_date(day_text, &day)) return -EINVAL;
    if (len == 19) {
        char hms[3][3] = {{text[11], text[12]}, {text[14], text[15]}, {text[17], text[18]}};
        if (text[10] != ' ' || text[13] != ':' || text[16] != ':' || parse_i64(hms[0], 0, 23, &h) ||
            parse_i64(hms[1], 0, 59, &m) || parse_i64(hms[2], 0, 59, &s))
            return -EINVAL;
    }
    *out = day * MS_PER_DAY + ((h * 60 + m) * 60 + s) * 1000;
    return 0;
}

int token_expiry_parse(const char *date, const char *hours, int64_t now, int64_t *expires_ms,
                       char *err, size_t errlen)
{
    *expires_ms = 0;
    int64_t n = 0;
    if (date && *date) {
        if (parse_datetime_ms(date, expires_ms)) {
            snprintf(err, errlen, "expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC), got '%.40s'",
                     date);
            return -EINVAL;
        }
        if (*expires_ms <= now) {
            snprintf(err, errlen, "%s is not in the future", date);
            return -EINVAL;
        }
    } else if (hours && *hours) {
        if (parse_i64(hours, 0, TOKEN_EXPIRE_HOURS_MAX, &n)) {
            snprintf(err, errlen, "expected whole hours from 0 (never) to %d, got '%.40s'",
                     TOKEN_EXPIRE_HOURS_MAX, hours);
            return -EINVAL;
        }
        *expires_ms = n ? now + n * 3600 * 1000 : 0;
    }
    return 0;
}

bool tokens_next(const struct tokens *tokens, size_t *cursor, struct token_info *out)
{
    while (tokens && *cursor < tokens->count) {
        size_t i = (*cursor)++;
        const struct token_entry *e = &tokens->items[i];
        if (e->transient) continue;
        *out = (struct token_info){.id = e->id,
                                   .site_id = e->site_id,
                                   .user = e->user,
                                   .description = e->description,
                                   .created_ms = e->created_ms,
                                   .expires_ms = e->expires_ms,
                                   .last_used_ms = atomic_load(&tokens->last_used_ms[i])};
        return true;
    }
    return false;
}

/* ---- transient tokens (dashboard sessions) ---- */

int tokens_add_transient(struct tokens *tokens, const char *user, char token_out[33])
{
    if (!user_name_valid(user) || sodium_init() < 0) return -EINVAL;
    struct token_entry *e = tokens_grow(tokens);
    e->user = config_strdup(user);
    e->transient = true;
    token_generate(token_out, e->hash);
    return 0;
}

void tokens_remove_transient(struct tokens *tokens, const char *token)
{
    if (!tokens || !token_well_formed(token)) return;
    unsigned char hash[TOKEN_HASH_LEN];
    token_hash(token, hash);
    for (size_t i = 0; i < tokens->count; i++) {
        const struct token_entry *e = &tokens->items[i];
        if (e->transient && sodium_memcmp(hash, e->hash, TOKEN_HASH_LEN) == 0) {
            tokens_remove_at(tokens, i);
            return;
        }
    }
}

void tokens_carry_over(const struct tokens *from, struct tokens *to)
{
    for (size_t i = 0; from && i < from->count; i++) {
        const struct token_entry *e = &from->items[i];
        int64_t used = atomic_load(&from->last_used_ms[i]);
        if (e->transient) {
            struct token_entry *copy = tokens_grow(to);
            *copy = *e;
            copy->user = config_strdup(e->user);
            atomic_store(&to->last_used_ms[to->count - 1], used);
            continue;
        }
        /* Ids are never reused: the same id is the same token. */
        for (size_t k = 0; used && k < to->count; k++)
            if (to->items[k].id == e->id) atomic_store(&to->last_used_ms[k], used);
    }
}

/* ---- access ---- */

/* Who a request's token_auth says it is. */
struct principal {
    enum { PRINCIPAL_ANONYMOUS, PRINCIPAL_UNKNOWN, PRINCIPAL_SITE, PRINCIPAL_USER } kind;
    uint32_t site_id;         /* PRINCIPAL_SITE */
    const struct user *user;  /* PRINCIPAL_USER */
};

static struct principal principal_of(const struct users *users, const struct tokens *tokens,
                                     const char *token)
{
    struct principal p = {.kind = PRINCIPAL_ANONYMOUS};
    if (!token || !*token) return p;
    p.kind = PRINCIPAL_UNKNOWN;
    if (!tokens || !token_well_formed(token)) return p;
    unsigned char hash[TOKEN_HASH_LEN];
    token_hash(token, hash);
    /* Every entry is compared, in constant time, so timing says nothing
     * about how much of which hash matched. */
    size_t match = tokens->count;
    for (size_t i = 0; i < tokens->count; i++)
        if (sodium_memcmp(hash, tokens->items[i].hash, TOKEN_HASH_LEN) == 0) match = i;
    if (match == tokens->count) return p;
    const struct token_entry *e = &tokens->items[match];
    int64_t now = now_ms();
    if (e->expires_ms && now >= e->expires_ms) return p;
    if (!e->user) {
        p.kind = PRINCIPAL_SITE;
        p.site_id = e->site_id;
    } else if ((p.user = users_find(users, e->user))) {
        p.kind = PRINCIPAL_USER;
    } else {
        /* A token whose user is gone is worth nothing. */
        return p;
    }
    atomic_store_explicit(&tokens->last_used_ms[match], now, memory_order_relaxed);
    return p;
}

static enum access principal_access(const struct principal *p, const struct site *site)
{
    if (p->kind == PRINCIPAL_USER && p->user->superuser) return ACCESS_SUPERUSER;
    /* A wrong token is refused even where no token would do. */
    if (!site || p->kind == PRINCIPAL_UNKNOWN) return ACCESS_NONE;
    enum access granted = ACCESS_NONE;
    if (p->kind == PRINCIPAL_SITE && p->site_id == site->id) granted = ACCESS_WRITE;
    if (p->kind == PRINCIPAL_USER) granted = user_access(p->user, site->id);
    if (granted == ACCESS_NONE && site->anonymous_view) granted = ACCESS_VIEW;
    return granted;
}

enum access access_for(const struct users *users, const struct tokens *tokens,
                       const struct sites *sites, const char *token_auth, uint32_t site_id)
{
    struct principal p = principal_of(users, tokens, token_auth);
    return principal_access(&p, sites_find(sites, site_id));
}

bool access_is_superuser(const struct users *users, const struct tokens *tokens,
                         const char *token_auth)
{
    struct principal p = principal_of(users, tokens, token_auth);
    return p.kind == PRINCIPAL_USER && p.user->superuser;
}

const char *access_user_name(const struct users *users, const struct tokens *tokens,
                             const char *token_auth)
{
    struct principal p = principal_of(users, tokens, token_auth);
    return p.kind == PRINCIPAL_USER ? p.user->name : NULL;
}

size_t access_sites(const struct users *users, const struct tokens *tokens,
                    const struct sites *sites, const char *token_auth, enum access min,
                    uint32_t *out, size_t max)
{
    struct principal p = principal_of(users, tokens, token_auth);
    size_t n = 0;
    for (size_t i = 0; sites && i < sites->count; i++) {
        if (principal_access(&p, &sites->items[i]) < min) continue;
        if (n < max) out[n] = sites->items[i].id;
        n++;
    }
    return n;
}
