# Turns `elman --help`, which is laid out like a man page, into one:
#   a line "SECTION" in capitals at column 0   -> .SH SECTION
#   "    --option VALUE" then deeper lines      -> .TP, the option in bold
#   the lines of SYNOPSIS and EXAMPLES          -> kept as they are (.nf)
#   other text                                  -> filled paragraphs
# help2man would refill the synopsis and examples and read the capitals as
# plain text. Variables: name (the command), section, date, source.
function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    if (s ~ /^[.']/) s = "\\&" s
    return s
}
BEGIN {
    printf ".TH %s %s \"%s\" \"%s\" \"User Commands\"\n", toupper(name), section, date, source
    sect = ""
}
/^[A-Z][A-Z]+( [A-Z]+)*( \([a-z]+\))?$/ {
    if (verbatim) print ".fi"
    sect = $0
    verbatim = (sect == "SYNOPSIS" || sect == "EXAMPLES")
    printf ".SH \"%s\"\n", sect
    if (verbatim) print ".nf"
    blank = 0
    next
}
/^[ \t]*$/ { blank = 1; next }
{
    line = $0
    if (verbatim) {
        if (blank) print ""
        sub(/^    /, "", line)
        print esc(line)
    } else if (line ~ /^    -/) {
        sub(/^ +/, "", line)
        print ".TP"
        print "\\fB" esc(line) "\\fR"
    } else {
        if (blank) print ".PP"
        sub(/^ +/, "", line)
        print esc(line)
    }
    blank = 0
}
END { if (verbatim) print ".fi" }
