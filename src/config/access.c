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
    uint32_t site_id; /* a site token's site, 0 for a user's token */
    char *user;       /* a user's token's owner, NULL for a site token */
    unsigned char hash[TOKEN_HASH_LEN];
    bool transient;   /* a dashboard session's: in memory only, never in tokens.json */
};

struct tokens {
    struct token_entry *items;
    size_t count;
};

void tokens_free(struct tokens *tokens)
{
    if (!tokens) return;
    for (size_t i = 0; i < tokens->count; i++)
        free(tokens->items[i].user);
    free(tokens->items);
    free(tokens);
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

/* One entry of tokens.json: exactly one owner ("site" or "user") and a hash. */
static int token_from_json(json_t *e, const char *path, size_t index, struct token_entry *out,
                           char *err, size_t errlen)
{
    json_t *site = json_object_get(e, "site");
    const char *user = config_json_str(e, "user", NULL);
    const char *hex = config_json_str(e, "hash", "");
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
    out->site_id = site_ok ? (uint32_t)json_integer_value(site) : 0;
    out->user = site_ok ? NULL : config_strdup(user);
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
    json_t *arr = root ? json_object_get(root, "tokens") : NULL;
    if (root && !json_is_array(arr)) {
        snprintf(err, errlen, "%s: expected {\"tokens\": [...]}", path);
        rc = -EINVAL;
    }
    size_t n = arr ? json_array_size(arr) : 0;
    if (!rc && n) {
        tokens->items = calloc(n, sizeof *tokens->items);
        if (!tokens->items) abort();
    }
    for (size_t i = 0; !rc && i < n; i++) {
        rc = token_from_json(json_array_get(arr, i), path, i, &tokens->items[i], err, errlen);
        if (!rc) tokens->count++;
    }
    json_decref(root);
    if (rc) {
        tokens_free(tokens);
        return rc;
    }
    *out = tokens;
    return 0;
}

/* Adds a token owned by owner ({"site":N} or {"user":"name"}, whose
 * reference this takes) to tokens.json; config lock held. */
static int tokens_append(const char *data_dir, json_t *owner, char token_out[33], char *err,
                         size_t errlen)
{
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "tokens.json");
    json_t *root = NULL;
    int rc = config_json_read(path, &root, err, errlen);
    if (!rc && !root) root = json_pack("{s:[]}", "tokens");
    json_t *arr = root ? json_object_get(root, "tokens") : NULL;
    if (!rc && !json_is_array(arr)) {
        snprintf(err, errlen, "%s: expected {\"tokens\": [...]}", path);
        rc = -EINVAL;
    }
    if (!rc) {
        unsigned char raw[TOKEN_HEX_LEN / 2], hash[TOKEN_HASH_LEN];
        char hash_hex[2 * TOKEN_HASH_LEN + 1];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(token_out, 33, raw, sizeof raw);
        token_hash(token_out, hash);
        sodium_bin2hex(hash_hex, sizeof hash_hex, hash, sizeof hash);
        json_object_set_new(owner, "hash", json_string(hash_hex));
        json_object_set_new(owner, "created_ms", json_integer(now_ms()));
        json_array_append(arr, owner);
        /* Hashes only, but nobody else needs to read them. */
        rc = config_json_write(path, root, 0600, err, errlen);
        sodium_memzero(raw, sizeof raw);
        if (rc) sodium_memzero(token_out, 33);
    }
    json_decref(owner);
    json_decref(root);
    return rc;
}

/* Removes every token of the user name from tokens.json. */
static int tokens_drop_user(const char *data_dir, const char *name, char *err, size_t errlen)
{
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    char path[PATH_MAX];
    config_path(path, sizeof path, data_dir, "tokens.json");
    json_t *root = NULL;
    int rc = config_json_read(path, &root, err, errlen);
    json_t *arr = root ? json_object_get(root, "tokens") : NULL;
    if (!rc && json_is_array(arr)) {
        size_t before = json_array_size(arr);
        for (size_t i = json_array_size(arr); i-- > 0;) {
            const char *owner = config_json_str(json_array_get(arr, i), "user", NULL);
            if (owner && strcmp(owner, name) == 0) json_array_remove(arr, i);
        }
        if (json_array_size(arr) != before) rc = config_json_write(path, root, 0600, err, errlen);
    }
    json_decref(root);
    close(lock);
    return rc;
}

int tokens_create(const char *data_dir, uint32_t site_id, char token_out[33], char *err,
                  size_t errlen)
{
    int rc = sodium_ready(err, errlen);
    if (rc) return rc;
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    struct sites *sites = NULL;
    rc = sites_load(data_dir, &sites, err, errlen);
    if (!rc && !sites_find(sites, site_id)) {
        snprintf(err, errlen, "--site: no site with id %u; `tally site list` shows the sites",
                 site_id);
        rc = -ENOENT;
    }
    sites_free(sites);
    if (!rc)
        rc = tokens_append(data_dir, json_pack("{s:I}", "site", (json_int_t)site_id), token_out,
                           err, errlen);
    close(lock);
    return rc;
}

int tokens_create_for_user(const char *data_dir, const char *name, char token_out[33], char *err,
                           size_t errlen)
{
    int rc = user_name_check(name, err, errlen);
    if (!rc) rc = sodium_ready(err, errlen);
    if (rc) return rc;
    int lock = config_lock(data_dir, err, errlen);
    if (lock < 0) return lock;
    struct users *users = NULL;
    rc = users_load(data_dir, &users, err, errlen);
    if (!rc && !users_find(users, name)) {
        snprintf(err, errlen, "--user: no user named %s; `tally user list` shows the users", name);
        rc = -ENOENT;
    }
    users_free(users);
    if (!rc) rc = tokens_append(data_dir, json_pack("{s:s}", "user", name), token_out, err, errlen);
    close(lock);
    return rc;
}

/* ---- transient tokens (dashboard sessions) ---- */

static void token_entry_add(struct tokens *tokens, const struct token_entry *e)
{
    struct token_entry *grown = realloc(tokens->items, (tokens->count + 1) * sizeof *grown);
    if (!grown) abort();
    tokens->items = grown;
    tokens->items[tokens->count] = *e;
    tokens->items[tokens->count].user = e->user ? config_strdup(e->user) : NULL;
    tokens->count++;
}

int tokens_add_transient(struct tokens *tokens, const char *user, char token_out[33])
{
    if (!user_name_valid(user) || sodium_init() < 0) return -EINVAL;
    unsigned char raw[TOKEN_HEX_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token_out, 33, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    struct token_entry e = {.user = (char *)user, .transient = true};
    token_hash(token_out, e.hash);
    token_entry_add(tokens, &e);
    return 0;
}

void tokens_remove_transient(struct tokens *tokens, const char *token)
{
    if (!tokens || !token_well_formed(token)) return;
    unsigned char hash[TOKEN_HASH_LEN];
    token_hash(token, hash);
    for (size_t i = 0; i < tokens->count; i++) {
        struct token_entry *e = &tokens->items[i];
        if (!e->transient || sodium_memcmp(hash, e->hash, TOKEN_HASH_LEN) != 0) continue;
        free(e->user);
        memmove(e, e + 1, (tokens->count - i - 1) * sizeof *e);
        tokens->count--;
        return;
    }
}

void tokens_carry_transient(const struct tokens *from, struct tokens *to)
{
    for (size_t i = 0; from && i < from->count; i++)
        if (from->items[i].transient) token_entry_add(to, &from->items[i]);
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
    const struct token_entry *match = NULL;
    for (size_t i = 0; i < tokens->count; i++)
        if (sodium_memcmp(hash, tokens->items[i].hash, TOKEN_HASH_LEN) == 0)
            match = &tokens->items[i];
    if (!match) return p;
    if (!match->user) {
        p.kind = PRINCIPAL_SITE;
        p.site_id = match->site_id;
        return p;
    }
    /* A token whose user is gone is worth nothing. */
    p.user = users_find(users, match->user);
    if (p.user) p.kind = PRINCIPAL_USER;
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
