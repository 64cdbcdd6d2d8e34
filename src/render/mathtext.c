/*
 * mathtext.c - the TeX subset matplotlib users write in labels, without LaTeX.
 *
 * Text outside $...$ is plain. Inside, like matplotlib's mathtext: Latin letters and
 * lowercase Greek are italic, digits, capital Greek and symbols upright, spaces are
 * ignored, binary operators and relations get TeX's medium and thick spaces, "-" is a
 * minus sign. Supported: ^ and _ (single atom or {group}, nested), Greek letters,
 * named functions (\sin ... upright), common symbols, \frac{}{} (inline, script size),
 * \sqrt{}, \mathrm{} / \text{}, spacing commands. Anything else (unknown commands,
 * stray braces, a lone $) comes out literally: a label never fails to draw.
 *
 * Parsing builds a small node tree in two arrays sized from the input, so the work
 * and memory are linear in the (capped) input length; layout turns the tree into
 * positioned runs with a caller-supplied measure function (pango in text.c, a fake
 * one in the unit tests).
 */
#include <stdlib.h>
#include <string.h>

#include "render/render_int.h"

typedef struct {
    const char *name;
    const char *utf8;
    char cls; /* 'l' italic letter, 'u' upright, 'b' binary op, 'r' relation, 'f' function */
} sym_t;

/* Immutable tables: the only file-scope data of this module. */
static const sym_t symbols[] = {
    {"alpha", "α", 'l'}, {"beta", "β", 'l'}, {"gamma", "γ", 'l'}, {"delta", "δ", 'l'},
    {"epsilon", "ϵ", 'l'}, {"varepsilon", "ε", 'l'}, {"zeta", "ζ", 'l'}, {"eta", "η", 'l'},
    {"theta", "θ", 'l'}, {"vartheta", "ϑ", 'l'}, {"iota", "ι", 'l'}, {"kappa", "κ", 'l'},
    {"lambda", "λ", 'l'}, {"mu", "μ", 'l'}, {"nu", "ν", 'l'}, {"xi", "ξ", 'l'},
    {"omicron", "ο", 'l'}, {"pi", "π", 'l'}, {"varpi", "ϖ", 'l'}, {"rho", "ρ", 'l'},
    {"varrho", "ϱ", 'l'}, {"sigma", "σ", 'l'}, {"varsigma", "ς", 'l'}, {"tau", "τ", 'l'},
    {"upsilon", "υ", 'l'}, {"phi", "ϕ", 'l'}, {"varphi", "φ", 'l'}, {"chi", "χ", 'l'},
    {"psi", "ψ", 'l'}, {"omega", "ω", 'l'},
    {"Gamma", "Γ", 'u'}, {"Delta", "Δ", 'u'}, {"Theta", "Θ", 'u'}, {"Lambda", "Λ", 'u'},
    {"Xi", "Ξ", 'u'}, {"Pi", "Π", 'u'}, {"Sigma", "Σ", 'u'}, {"Upsilon", "Υ", 'u'},
    {"Phi", "Φ", 'u'}, {"Psi", "Ψ", 'u'}, {"Omega", "Ω", 'u'},
    {"cdot", "⋅", 'b'}, {"times", "×", 'b'}, {"pm", "±", 'b'}, {"mp", "∓", 'b'},
    {"div", "÷", 'b'}, {"ast", "∗", 'b'}, {"star", "⋆", 'b'}, {"bullet", "∙", 'b'},
    {"cap", "∩", 'b'}, {"cup", "∪", 'b'}, {"wedge", "∧", 'b'}, {"vee", "∨", 'b'},
    {"oplus", "⊕", 'b'}, {"otimes", "⊗", 'b'},
    {"leq", "≤", 'r'}, {"le", "≤", 'r'}, {"geq", "≥", 'r'}, {"ge", "≥", 'r'},
    {"neq", "≠", 'r'}, {"ne", "≠", 'r'}, {"approx", "≈", 'r'}, {"sim", "∼", 'r'},
    {"simeq", "≃", 'r'}, {"equiv", "≡", 'r'}, {"propto", "∝", 'r'}, {"ll", "≪", 'r'},
    {"gg", "≫", 'r'}, {"to", "→", 'r'}, {"rightarrow", "→", 'r'}, {"leftarrow", "←", 'r'},
    {"Rightarrow", "⇒", 'r'}, {"Leftarrow", "⇐", 'r'}, {"leftrightarrow", "↔", 'r'},
    {"mapsto", "↦", 'r'}, {"in", "∈", 'r'}, {"subset", "⊂", 'r'}, {"perp", "⊥", 'r'},
    {"infty", "∞", 'u'}, {"circ", "∘", 'u'}, {"degree", "°", 'u'}, {"partial", "∂", 'u'},
    {"nabla", "∇", 'u'}, {"sum", "∑", 'u'}, {"prod", "∏", 'u'}, {"int", "∫", 'u'},
    {"oint", "∮", 'u'}, {"ldots", "…", 'u'}, {"cdots", "⋯", 'u'}, {"dots", "…", 'u'},
    {"prime", "′", 'u'}, {"hbar", "ℏ", 'u'}, {"ell", "ℓ", 'u'}, {"AA", "Å", 'u'},
    {"langle", "⟨", 'u'}, {"rangle", "⟩", 'u'}, {"vert", "|", 'u'}, {"|", "‖", 'u'},
    {"forall", "∀", 'u'}, {"exists", "∃", 'u'}, {"emptyset", "∅", 'u'}, {"angle", "∠", 'u'},
    {"percent", "%", 'u'}, {"{", "{", 'u'}, {"}", "}", 'u'}, {"$", "$", 'u'},
    {"_", "_", 'u'}, {"%", "%", 'u'}, {"#", "#", 'u'}, {"&", "&", 'u'},
    {"backslash", "\\", 'u'}, {"lbrace", "{", 'u'}, {"rbrace", "}", 'u'},
    {"sin", "sin", 'f'}, {"cos", "cos", 'f'}, {"tan", "tan", 'f'}, {"cot", "cot", 'f'},
    {"sec", "sec", 'f'}, {"csc", "csc", 'f'}, {"sinh", "sinh", 'f'}, {"cosh", "cosh", 'f'},
    {"tanh", "tanh", 'f'}, {"arcsin", "arcsin", 'f'}, {"arccos", "arccos", 'f'},
    {"arctan", "arctan", 'f'}, {"exp", "exp", 'f'}, {"log", "log", 'f'}, {"ln", "ln", 'f'},
    {"lg", "lg", 'f'}, {"lim", "lim", 'f'}, {"max", "max", 'f'}, {"min", "min", 'f'},
    {"sup", "sup", 'f'}, {"inf", "inf", 'f'}, {"arg", "arg", 'f'}, {"det", "det", 'f'},
    {"deg", "deg", 'f'}, {"dim", "dim", 'f'}, {"gcd", "gcd", 'f'}, {"ker", "ker", 'f'},
    {"Pr", "Pr", 'f'},
};

static const struct {
    const char *name;
    float em;
} spaces[] = {
    {",", 3 / 18.f}, {":", 4 / 18.f}, {";", 5 / 18.f}, {"!", -3 / 18.f}, {" ", 1 / 3.f},
    {"quad", 1.f}, {"qquad", 2.f}, {"enspace", 0.5f}, {"thinspace", 3 / 18.f},
};

#define BIN_SPACE (4 / 18.f) /* TeX \medmuskip around binary operators */
#define REL_SPACE (5 / 18.f) /* \thickmuskip around relations */
#define FUN_SPACE (3 / 18.f) /* \thinmuskip after a function name */

typedef struct {
    ipp__mt_t *mt;
    const char *s;
    size_t pos, end; /* parse s[pos..end) */
    bool full;       /* out of nodes or text: stop adding */
    int text_mode;   /* inside \text{}: spaces count */
} parser_t;

static int new_node(parser_t *p, ipp__mt_kind_t kind)
{
    ipp__mt_t *mt = p->mt;
    if (mt->nnodes >= mt->cap) {
        p->full = true;
        return -1;
    }
    int id = (int)mt->nnodes++;
    mt->nodes[id] = (ipp__mt_node_t){.kind = kind, .a = -1, .b = -1, .c = -1, .next = -1};
    return id;
}

/* Append `n` to group g; returns false when n is -1. */
static bool group_add(parser_t *p, int g, int n, int *last)
{
    if (n < 0 || g < 0)
        return false;
    if (*last < 0)
        p->mt->nodes[g].a = n;
    else
        p->mt->nodes[*last].next = n;
    *last = n;
    return true;
}

/* Add text to group g, merging with the previous run when it has the same style. */
static void add_text(parser_t *p, int g, int *last, const char *t, size_t len,
                     ipp__mt_style_t st)
{
    ipp__mt_t *mt = p->mt;
    if (len == 0)
        return;
    if (mt->textlen + len > mt->textcap) {
        p->full = true;
        return;
    }
    if (*last >= 0) {
        ipp__mt_node_t *prev = &mt->nodes[*last];
        if (prev->kind == IPP__MT_TEXT && prev->style == st &&
            prev->off + prev->len == mt->textlen) {
            memcpy(mt->text + mt->textlen, t, len);
            mt->textlen += len;
            prev->len += (uint32_t)len;
            return;
        }
    }
    int n = new_node(p, IPP__MT_TEXT);
    if (n < 0)
        return;
    memcpy(mt->text + mt->textlen, t, len);
    mt->nodes[n].style = st;
    mt->nodes[n].off = (uint32_t)mt->textlen;
    mt->nodes[n].len = (uint32_t)len;
    mt->textlen += len;
    group_add(p, g, n, last);
}

static void add_space(parser_t *p, int g, int *last, float em)
{
    int n = new_node(p, IPP__MT_SPACE);
    if (n >= 0) {
        p->mt->nodes[n].space_em = em;
        group_add(p, g, n, last);
    }
}

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* Plain text s[from..to): one roman run, with "\$" standing for "$". */
static void plain_text(parser_t *p, int g, int *last, size_t from, size_t to)
{
    size_t i = from;
    while (i < to && !p->full) {
        size_t j = i;
        while (j < to && !(p->s[j] == '\\' && j + 1 < to && p->s[j + 1] == '$'))
            j++;
        add_text(p, g, last, p->s + i, j - i, IPP__MT_ROMAN);
        if (j < to) {
            add_text(p, g, last, "$", 1, IPP__MT_ROMAN);
            j += 2;
        }
        i = j;
    }
}

static int parse_list(parser_t *p, bool braced, ipp__mt_style_t font, int depth);

/* Whether the group's last atom is an operand (so a following +/- is binary). */
static bool last_is_operand(const parser_t *p, int last)
{
    if (last < 0)
        return false;
    const ipp__mt_node_t *n = &p->mt->nodes[last];
    return n->kind != IPP__MT_SPACE;
}

/* One argument of \frac, \sqrt, ^ or _: a {group} or a single atom. */
static int parse_arg(parser_t *p, ipp__mt_style_t font, int depth)
{
    while (p->pos < p->end && p->s[p->pos] == ' ')
        p->pos++;
    if (p->pos < p->end && p->s[p->pos] == '{') {
        p->pos++;
        return parse_list(p, true, font, depth + 1);
    }
    /* a single atom: parse a list limited to one character or command */
    size_t save_end = p->end, stop = p->pos;
    if (stop < p->end && p->s[stop] == '\\') {
        stop++;
        if (stop < p->end && ((p->s[stop] | 32) >= 'a' && (p->s[stop] | 32) <= 'z')) {
            while (stop < p->end && (p->s[stop] | 32) >= 'a' && (p->s[stop] | 32) <= 'z')
                stop++;
        } else if (stop < p->end) {
            stop++;
        }
    } else if (stop < p->end) {
        stop += utf8_len((unsigned char)p->s[stop]);
        if (stop > p->end)
            stop = p->end;
    }
    p->end = stop;
    int g = parse_list(p, false, font, depth + 1);
    p->end = save_end;
    return g;
}

/* Wrap the group's last atom into a SCRIPT node and fill its ^ or _ slot. */
static void attach_script(parser_t *p, int g, int *last, char kind, ipp__mt_style_t font,
                          int depth)
{
    ipp__mt_t *mt = p->mt;
    int sc = -1;
    if (*last >= 0 && mt->nodes[*last].kind == IPP__MT_SCRIPT &&
        (kind == '^' ? mt->nodes[*last].b : mt->nodes[*last].c) < 0) {
        sc = *last;
    } else {
        int base = -1;
        if (*last >= 0 && mt->nodes[*last].kind == IPP__MT_TEXT && mt->nodes[*last].len > 1) {
            /* only the last character of a merged run carries the script */
            ipp__mt_node_t *prev = &mt->nodes[*last];
            uint32_t cut = prev->len - 1;
            while (cut > 0 && ((unsigned char)mt->text[prev->off + cut] & 0xc0) == 0x80)
                cut--;
            base = new_node(p, IPP__MT_TEXT);
            if (base < 0)
                return;
            prev = &mt->nodes[*last];
            mt->nodes[base].style = prev->style;
            mt->nodes[base].off = prev->off + cut;
            mt->nodes[base].len = prev->len - cut;
            prev->len = cut;
            group_add(p, g, base, last);
        }
        sc = new_node(p, IPP__MT_SCRIPT);
        if (sc < 0)
            return;
        if (*last >= 0 && mt->nodes[*last].kind != IPP__MT_SPACE) {
            /* unlink the last atom from the group and make it the base */
            int prevprev = -1;
            for (int n = mt->nodes[g].a; n >= 0 && n != *last; n = mt->nodes[n].next)
                prevprev = n;
            mt->nodes[sc].a = *last;
            if (prevprev < 0)
                mt->nodes[g].a = -1;
            else
                mt->nodes[prevprev].next = -1;
            *last = prevprev;
        }
        group_add(p, g, sc, last);
    }
    int arg = parse_arg(p, font, depth);
    if (kind == '^')
        mt->nodes[sc].b = arg;
    else
        mt->nodes[sc].c = arg;
}

static const sym_t *find_symbol(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        if (strlen(symbols[i].name) == len && memcmp(symbols[i].name, name, len) == 0)
            return &symbols[i];
    }
    return NULL;
}

static void add_symbol(parser_t *p, int g, int *last, const sym_t *sym, ipp__mt_style_t font)
{
    size_t len = strlen(sym->utf8);
    switch (sym->cls) {
    case 'l':
        add_text(p, g, last, sym->utf8, len, font);
        break;
    case 'b':
    case 'r': {
        float sp = sym->cls == 'b' ? BIN_SPACE : REL_SPACE;
        bool spaced = sym->cls == 'r' || last_is_operand(p, *last);
        if (spaced)
            add_space(p, g, last, sp);
        add_text(p, g, last, sym->utf8, len, IPP__MT_ROMAN);
        if (spaced)
            add_space(p, g, last, sp);
        break;
    }
    case 'f': {
        add_text(p, g, last, sym->utf8, len, IPP__MT_ROMAN);
        /* TeX's thin space after an operator name, unless an argument in
         * parentheses or a script follows */
        size_t q = p->pos;
        while (q < p->end && p->s[q] == ' ')
            q++;
        if (q < p->end && !strchr("([{^_|", p->s[q]))
            add_space(p, g, last, FUN_SPACE);
        break;
    }
    default:
        add_text(p, g, last, sym->utf8, len, IPP__MT_ROMAN);
    }
}

/* Accents as Unicode combining marks, which the font places over the letter. */
static const char *accent_mark(const char *name, size_t len)
{
    static const struct {
        const char *name, *mark;
    } accents[] = {
        {"hat", "\xcc\x82"},   {"bar", "\xcc\x84"},  {"overline", "\xcc\x85"},
        {"tilde", "\xcc\x83"}, {"dot", "\xcc\x87"},  {"ddot", "\xcc\x88"},
        {"vec", "\xe2\x83\x97"}, {"acute", "\xcc\x81"}, {"grave", "\xcc\x80"},
        {"breve", "\xcc\x86"}, {"check", "\xcc\x8c"},
    };
    for (size_t i = 0; i < sizeof accents / sizeof accents[0]; i++) {
        if (strlen(accents[i].name) == len && memcmp(accents[i].name, name, len) == 0)
            return accents[i].mark;
    }
    return NULL;
}

/* Put the mark after the argument's last character when that is the latest text;
 * anything more complex keeps its argument and drops the accent. */
static void add_accent(parser_t *p, int g, int *last, const char *mark, int arg)
{
    ipp__mt_t *mt = p->mt;
    size_t ml = strlen(mark);
    if (arg >= 0) {
        int child = mt->nodes[arg].kind == IPP__MT_GROUP ? mt->nodes[arg].a : arg;
        if (child >= 0 && mt->nodes[child].kind == IPP__MT_TEXT && mt->nodes[child].next < 0 &&
            mt->nodes[child].off + mt->nodes[child].len == mt->textlen &&
            mt->textlen + ml <= mt->textcap) {
            memcpy(mt->text + mt->textlen, mark, ml);
            mt->textlen += ml;
            mt->nodes[child].len += (uint32_t)ml;
        }
    }
    group_add(p, g, arg, last);
}

/* A backslash command at p->pos (which points past the backslash). */
static void parse_command(parser_t *p, int g, int *last, ipp__mt_style_t font, int depth)
{
    const char *s = p->s;
    size_t start = p->pos, i = start;
    while (i < p->end && ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z'))
        i++;
    if (i == start && i < p->end)
        i += utf8_len((unsigned char)s[i]); /* \, \{ \$ ... */
    if (i > p->end)
        i = p->end;
    size_t len = i - start;
    p->pos = i;
    const char *name = s + start;
    for (size_t k = 0; k < sizeof spaces / sizeof spaces[0]; k++) {
        if (strlen(spaces[k].name) == len && memcmp(spaces[k].name, name, len) == 0) {
            add_space(p, g, last, spaces[k].em);
            return;
        }
    }
    const sym_t *sym = find_symbol(name, len);
    if (sym) {
        add_symbol(p, g, last, sym, font);
        return;
    }
#define IS(lit) (len == sizeof lit - 1 && memcmp(name, lit, len) == 0)
    if (IS("frac") || IS("dfrac") || IS("tfrac") || IS("sqrt")) {
        bool frac = name[0] != 's';
        int n = new_node(p, frac ? IPP__MT_FRAC : IPP__MT_SQRT);
        if (n < 0)
            return;
        if (!frac && p->pos < p->end && s[p->pos] == '[') {
            /* \sqrt[n]{x}: the index is skipped, the radical still drawn */
            while (p->pos < p->end && s[p->pos] != ']')
                p->pos++;
            if (p->pos < p->end)
                p->pos++;
        }
        p->mt->nodes[n].a = parse_arg(p, font, depth);
        if (frac)
            p->mt->nodes[n].b = parse_arg(p, font, depth);
        group_add(p, g, n, last);
        return;
    }
    if (IS("mathrm") || IS("text") || IS("textrm") || IS("mathdefault") || IS("mathsf") ||
        IS("operatorname") || IS("mathbf") || IS("mathit") || IS("mathnormal")) {
        ipp__mt_style_t st = IS("mathit") || IS("mathnormal") ? IPP__MT_ITALIC : IPP__MT_ROMAN;
        bool text = IS("text") || IS("textrm");
        p->text_mode += text;
        group_add(p, g, parse_arg(p, st, depth), last);
        p->text_mode -= text;
        return;
    }
    const char *mark = accent_mark(name, len);
    if (mark) {
        add_accent(p, g, last, mark, parse_arg(p, font, depth));
        return;
    }
    if (IS("left") || IS("right") || IS("big") || IS("Big") || IS("bigg") || IS("Bigg")) {
        if (p->pos < p->end && s[p->pos] == '.')
            p->pos++; /* \left. is an invisible delimiter */
        return;
    }
#undef IS
    /* unknown: shown as typed */
    add_text(p, g, last, s + start - 1, len + 1, IPP__MT_ROMAN);
}

/* One math character (not a command, brace or script mark). */
static void parse_char(parser_t *p, int g, int *last, ipp__mt_style_t font)
{
    const char *s = p->s;
    unsigned char c = (unsigned char)s[p->pos];
    size_t n = utf8_len(c);
    if (p->pos + n > p->end)
        n = p->end - p->pos;
    const char *t = s + p->pos;
    p->pos += n;
    if (c == ' ' && !p->text_mode)
        return; /* TeX ignores spaces in math */
    if (c == '-' || c == '+' || c == '*' || c == '/') {
        static const sym_t minus = {"-", "−", 'b'}, plus = {"+", "+", 'b'},
                           star = {"*", "∗", 'b'}, slash = {"/", "/", 'u'};
        add_symbol(p, g, last, c == '-' ? &minus : c == '+' ? &plus : c == '*' ? &star : &slash,
                   font);
        return;
    }
    if (c == '=' || c == '<' || c == '>') {
        const sym_t rel = {"", c == '=' ? "=" : c == '<' ? "<" : ">", 'r'};
        add_symbol(p, g, last, &rel, font);
        return;
    }
    if (c == '\'') {
        add_text(p, g, last, "′", strlen("′"), IPP__MT_ROMAN);
        return;
    }
    bool letter = (c | 32) >= 'a' && (c | 32) <= 'z';
    add_text(p, g, last, t, n, letter ? font : IPP__MT_ROMAN);
}

/* Math until the end of the range or, when braced, the closing brace. */
static int parse_list(parser_t *p, bool braced, ipp__mt_style_t font, int depth)
{
    int g = new_node(p, IPP__MT_GROUP), last = -1;
    if (g < 0)
        return -1;
    if (depth > IPP__MT_MAX_DEPTH) {
        /* too deep to be meant: the rest of this range as plain text */
        size_t stop = p->pos;
        int level = 0;
        while (stop < p->end && !(braced && level == 0 && p->s[stop] == '}')) {
            level += p->s[stop] == '{' ? 1 : p->s[stop] == '}' ? -1 : 0;
            stop++;
        }
        add_text(p, g, &last, p->s + p->pos, stop - p->pos, IPP__MT_ROMAN);
        p->pos = stop < p->end ? stop + 1 : stop;
        return g;
    }
    while (p->pos < p->end && !p->full) {
        char c = p->s[p->pos];
        if (c == '}') {
            p->pos++;
            if (braced)
                return g;
            add_text(p, g, &last, "}", 1, IPP__MT_ROMAN); /* stray: literal */
        } else if (c == '{') {
            p->pos++;
            group_add(p, g, parse_list(p, true, font, depth + 1), &last);
        } else if (c == '\\') {
            p->pos++;
            if (p->pos >= p->end)
                add_text(p, g, &last, "\\", 1, IPP__MT_ROMAN);
            else
                parse_command(p, g, &last, font, depth);
        } else if (c == '^' || c == '_') {
            p->pos++;
            attach_script(p, g, &last, c, font, depth);
        } else {
            parse_char(p, g, &last, font);
        }
    }
    return g; /* an unclosed brace ends with the math */
}

bool ipp__mt_has_math(const char *s) { return s && strchr(s, '$'); }

/* Position of the next unescaped '$' at or after i, or `end`. */
static size_t next_dollar(const char *s, size_t i, size_t end)
{
    for (; i < end; i++) {
        if (s[i] == '\\' && i + 1 < end) {
            i++;
            continue;
        }
        if (s[i] == '$')
            return i;
    }
    return end;
}

static int parse_all(parser_t *p, size_t len)
{
    int root = new_node(p, IPP__MT_GROUP), last = -1;
    size_t i = 0;
    while (i < len && !p->full) {
        size_t open = next_dollar(p->s, i, len);
        size_t close = open < len ? next_dollar(p->s, open + 1, len) : len;
        if (close >= len) {
            /* no closing $: the rest is plain text, a lone $ included */
            plain_text(p, root, &last, i, len);
            break;
        }
        plain_text(p, root, &last, i, open);
        p->pos = open + 1;
        p->end = close;
        group_add(p, root, parse_list(p, false, IPP__MT_ITALIC, 1), &last);
        i = close + 1;
    }
    return root;
}

int ipp__mt_parse(const char *s, ipp__mt_t *mt)
{
    memset(mt, 0, sizeof *mt);
    mt->root = -1;
    if (!s)
        s = "";
    size_t len = strnlen(s, IPP__MT_MAX_INPUT);
    while (len > 0 && len < strlen(s) && ((unsigned char)s[len] & 0xc0) == 0x80)
        len--; /* cut at a character boundary */
    /* every input byte makes at most a few nodes and 3 bytes of text ("-" -> U+2212) */
    mt->cap = 4 * len + 16;
    mt->textcap = 4 * len + 16;
    mt->nodes = malloc(mt->cap * sizeof *mt->nodes);
    mt->text = malloc(mt->textcap);
    if (!mt->nodes || !mt->text) {
        ipp__mt_free(mt);
        return -1;
    }
    parser_t p = {.mt = mt, .s = s, .pos = 0, .end = len};
    mt->root = parse_all(&p, len);
    return 0;
}

void ipp__mt_free(ipp__mt_t *mt)
{
    free(mt->nodes);
    free(mt->text);
    memset(mt, 0, sizeof *mt);
    mt->root = -1;
}

/* ---- layout ---- */

/* Proportions of the font size, close to TeX's for a sans-serif font. */
#define SHRINK 0.7        /* script and fraction size, matplotlib's SHRINK_FACTOR */
#define SUP_SHIFT 0.40    /* superscript baseline above the base's */
#define SUB_SHIFT 0.20    /* subscript baseline below it (alone) */
#define SUB_SHIFT2 0.25   /* ... with a superscript too */
#define SCRIPT_SPACE 0.05 /* after the base */
#define AXIS 0.30         /* math axis: centre of the minus sign, fraction bars */
#define RULE 0.06         /* fraction bar and radical overline thickness */
#define GAP 0.12          /* between a rule and the ink next to it */
#define MIN_SIZE 1.0

typedef struct {
    double w, asc, desc;
} metrics_t;

typedef struct {
    const ipp__mt_t *mt;
    ipp__mt_measure_cb measure;
    void *ctx;
    ipp__mt_box_t *box;
    bool oom;
} lay_t;

static void emit(lay_t *L, ipp__mt_item_t it)
{
    ipp__mt_box_t *b = L->box;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        ipp__mt_item_t *ni = realloc(b->items, cap * sizeof *ni);
        if (!ni) {
            L->oom = true;
            return;
        }
        b->items = ni;
        b->cap = cap;
    }
    b->items[b->n++] = it;
}

static void shift(lay_t *L, size_t from, size_t to, double dx, double dy)
{
    for (size_t i = from; i < to && i < L->box->n; i++) {
        L->box->items[i].x += dx;
        L->box->items[i].y += dy;
    }
}

static double fmaxd(double a, double b) { return a > b ? a : b; }

static metrics_t lay(lay_t *L, int id, double size, double x, double y);

static metrics_t lay_script(lay_t *L, const ipp__mt_node_t *n, double size, double x,
                            double y)
{
    metrics_t base = lay(L, n->a, size, x, y);
    double ss = fmaxd(size * SHRINK, MIN_SIZE), sx = x + base.w + SCRIPT_SPACE * size;
    metrics_t m = {base.w, base.asc, base.desc}, sup = {0, 0, 0}, sub = {0, 0, 0};
    if (n->b >= 0) {
        double up = fmaxd(SUP_SHIFT * size, base.asc - 0.45 * ss);
        sup = lay(L, n->b, ss, sx, y - up);
        m.asc = fmaxd(m.asc, up + sup.asc);
    }
    if (n->c >= 0) {
        double down = fmaxd((n->b >= 0 ? SUB_SHIFT2 : SUB_SHIFT) * size, base.desc - 0.2 * ss);
        sub = lay(L, n->c, ss, sx, y + down);
        m.desc = fmaxd(m.desc, down + sub.desc);
    }
    if (n->b >= 0 || n->c >= 0)
        m.w = sx - x + fmaxd(sup.w, sub.w);
    return m;
}

static metrics_t lay_frac(lay_t *L, const ipp__mt_node_t *n, double size, double x, double y)
{
    double fs = fmaxd(size * SHRINK, MIN_SIZE), pad = 0.1 * size, th = RULE * size;
    size_t i0 = L->box->n;
    metrics_t num = lay(L, n->a, fs, 0, 0);
    size_t i1 = L->box->n;
    metrics_t den = lay(L, n->b, fs, 0, 0);
    size_t i2 = L->box->n;
    double inner = fmaxd(num.w, den.w), bar = y - AXIS * size;
    double numbase = bar - th / 2 - GAP * size - num.desc;
    double denbase = bar + th / 2 + GAP * size + den.asc;
    shift(L, i0, i1, x + pad + (inner - num.w) / 2, numbase);
    shift(L, i1, i2, x + pad + (inner - den.w) / 2, denbase);
    emit(L, (ipp__mt_item_t){.rule = true, .x = x + pad / 2, .y = bar, .w = inner + pad,
                             .size = th});
    return (metrics_t){inner + 2 * pad, y - numbase + num.asc, denbase - y + den.desc};
}

static metrics_t lay_sqrt(lay_t *L, const ipp__mt_node_t *n, double size, double x, double y)
{
    static const char radical[] = "√";
    size_t rlen = sizeof radical - 1;
    double th = RULE * size, gap = GAP * size, rw, rasc, rdesc;
    size_t i0 = L->box->n;
    metrics_t body = lay(L, n->a, size, 0, 0);
    size_t i1 = L->box->n;
    L->measure(L->ctx, radical, rlen, size, IPP__MT_ROMAN, &rw, &rasc, &rdesc);
    /* grow the radical (up to 3x) until it spans the body */
    double need = body.asc + fmaxd(body.desc, 0) + gap + th, have = rasc + rdesc;
    double rs = size * (have > 0 ? fmaxd(1, need / have) : 1);
    if (rs > 3 * size)
        rs = 3 * size;
    L->measure(L->ctx, radical, rlen, rs, IPP__MT_ROMAN, &rw, &rasc, &rdesc);
    double top = y - body.asc - gap - th; /* top edge of the overline */
    double rbase = top + rasc;
    ipp__mt_item_t it = {.rule = false, .style = IPP__MT_ROMAN, .x = x, .y = rbase, .w = rw,
                         .size = rs};
    /* the radical's text lives in the parsed string only when the caller put it there,
     * so it is carried by an item without text and drawn by name (len 0 = radical) */
    it.off = 0;
    it.len = 0;
    emit(L, it);
    shift(L, i0, i1, x + rw, y);
    emit(L, (ipp__mt_item_t){.rule = true, .x = x + rw - 0.04 * rs, .y = top + th / 2,
                             .w = body.w + 0.04 * rs + 0.1 * size, .size = th});
    return (metrics_t){rw + body.w + 0.1 * size, y - top, fmaxd(body.desc, rbase + rdesc - y)};
}

static metrics_t lay(lay_t *L, int id, double size, double x, double y)
{
    metrics_t m = {0, 0, 0};
    if (id < 0 || (size_t)id >= L->mt->nnodes || L->oom)
        return m;
    const ipp__mt_node_t *n = &L->mt->nodes[id];
    switch (n->kind) {
    case IPP__MT_TEXT:
        if (n->len == 0)
            return m;
        L->measure(L->ctx, L->mt->text + n->off, n->len, size, n->style, &m.w, &m.asc, &m.desc);
        emit(L, (ipp__mt_item_t){.rule = false, .style = n->style, .off = n->off, .len = n->len,
                                 .x = x, .y = y, .w = m.w, .size = size});
        return m;
    case IPP__MT_SPACE:
        m.w = n->space_em * size;
        return m;
    case IPP__MT_GROUP: {
        double x0 = x;
        for (int c = n->a; c >= 0; c = L->mt->nodes[c].next) {
            metrics_t cm = lay(L, c, size, x, y);
            x += cm.w;
            m.asc = fmaxd(m.asc, cm.asc);
            m.desc = fmaxd(m.desc, cm.desc);
        }
        m.w = x - x0;
        return m;
    }
    case IPP__MT_SCRIPT:
        return lay_script(L, n, size, x, y);
    case IPP__MT_FRAC:
        return lay_frac(L, n, size, x, y);
    case IPP__MT_SQRT:
        return lay_sqrt(L, n, size, x, y);
    }
    return m;
}

int ipp__mt_layout(const ipp__mt_t *mt, double size, ipp__mt_measure_cb measure, void *ctx,
                   ipp__mt_box_t *box)
{
    memset(box, 0, sizeof *box);
    lay_t L = {.mt = mt, .measure = measure, .ctx = ctx, .box = box};
    metrics_t m = lay(&L, mt->root, size, 0, 0);
    box->width = m.w;
    box->ascent = m.asc;
    box->descent = m.desc;
    if (L.oom) {
        ipp__mt_box_free(box);
        return -1;
    }
    return 0;
}

void ipp__mt_box_free(ipp__mt_box_t *box)
{
    free(box->items);
    memset(box, 0, sizeof *box);
}
