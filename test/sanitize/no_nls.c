/* gettext without glibc's locks, preloaded after the ASan runtime by
 * test/sanitize/run.sh. With libasan preloaded into Debian's postgres, the
 * reader count of glibc's _nl_state_lock underflows while the shared
 * libraries initialise, and the postmaster's first bindtextdomain() waits
 * forever (the hang of google/sanitizers#1096 and #1270, seen here with gcc
 * 12's and clang 14's runtimes alike). The suite runs with English messages
 * anyway, so every lookup returns the message it was given. */
char *bindtextdomain(const char *domain, const char *dir) {
    (void)domain;
    return (char *)(dir ? dir : "/usr/share/locale");
}
char *bind_textdomain_codeset(const char *domain, const char *codeset) {
    (void)domain;
    return (char *)codeset;
}
char *textdomain(const char *domain) { return (char *)(domain ? domain : "messages"); }
char *gettext(const char *msgid) { return (char *)msgid; }
char *dgettext(const char *domain, const char *msgid) {
    (void)domain;
    return (char *)msgid;
}
char *dcgettext(const char *domain, const char *msgid, int category) {
    (void)domain;
    (void)category;
    return (char *)msgid;
}
char *ngettext(const char *one, const char *many, unsigned long n) { return (char *)(n == 1 ? one : many); }
char *dngettext(const char *domain, const char *one, const char *many, unsigned long n) {
    (void)domain;
    return (char *)(n == 1 ? one : many);
}
char *dcngettext(const char *domain, const char *one, const char *many, unsigned long n, int category) {
    (void)domain;
    (void)category;
    return (char *)(n == 1 ? one : many);
}
