# bastion: merge one vendor key line into an authorized_keys file (POSIX awk; reads the old file, writes ENVIRON["OUT"]).
# ENVIRON: OUT KEY_TYPE KEY_B64 LINE_PREFIX (the line without its tag) VENDOR TODAY (YYYY-MM-DD)
# Every line that does not carry this key is copied byte for byte. The first line carrying the key (whoever wrote it)
# becomes bastion's line, in place, keeping the added= date of a line bastion wrote earlier. Later lines with the same
# key are dropped: sshd takes the first line that lets a key in, so a looser duplicate would widen access.
# Prints "<added|updated|present> <number of duplicates dropped>".
BEGIN { out = ENVIRON["OUT"]; b64 = ENVIRON["KEY_B64"]; kt = ENVIRON["KEY_TYPE"]; prefix = ENVIRON["LINE_PREFIX"]
        tag = "bastion:vendor=" ENVIRON["VENDOR"] ",added="; today = ENVIRON["TODAY"]; found = 0; dups = 0; status = "added"
        printf "" > out }
{
  line = $0; l = line; sub(/\r$/, "", l)
  n = split(l, f, /[ \t]+/); hit = 0
  for (i = 2; i <= n; i++) if (f[i] == b64 && f[i-1] == kt) { hit = 1; break }
  if (!hit) { print line > out; next }
  if (found) { dups++; next }
  found = 1; added = today; p = index(l, tag)
  if (p > 0) { d = substr(l, p + length(tag), 10); if (d ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/) added = d }
  want = prefix " " tag added
  status = (want == line) ? "present" : "updated"
  print want > out
}
END { if (!found) print prefix " " tag today > out; close(out); print status, dups }
