#!/usr/bin/env python3
"""The documentation's links resolve: every relative link in README.md, docs/*.md and
bench/README.md names a file that exists, every #anchor a heading of its target (GitHub's rule:
lowercase, punctuation removed, spaces to hyphens, -1, -2 ... for repeated headings), and every
backticked repository path (`server/...`, `tests/...`, ...) exists. Code blocks are skipped.

usage: links_test.py [REPO_ROOT]   (default: the repository this file is in)
Exit 0 when everything resolves; 1 with one line per problem otherwise.
"""
import glob
import os
import re
import sys

TOP_DIRS = ('server/', 'common/', 'client/', 'tests/', 'bench/', 'deploy/', 'docs/', '.ci/')
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')  # the link text may span lines
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')


def without_code_blocks(text):
    """The lines of `text`, those of fenced code blocks (and the fences) blanked."""
    lines, fenced = [], False
    for line in text.split('\n'):
        if line.lstrip().startswith('```'):
            fenced = not fenced
            lines.append('')
        else:
            lines.append('' if fenced else line)
    return lines


def slug(heading):
    text = re.sub(r'[^\w\- ]', '', heading.strip().lower())
    return text.replace(' ', '-')


def anchors_of(path, cache={}):
    if path not in cache:
        seen, anchors = {}, set()
        for line in without_code_blocks(open(path, encoding='utf-8').read()):
            match = HEADING.match(line)
            if match:
                base = slug(match.group(2))
                count = seen.get(base, 0)
                seen[base] = count + 1
                anchors.add(base if count == 0 else f'{base}-{count}')
        cache[path] = anchors
    return cache[path]


def check(root):
    files = ['README.md'] + sorted(
        os.path.relpath(p, root) for p in glob.glob(os.path.join(root, 'docs', '*.md')))
    files.append('bench/README.md')
    problems, links, paths = [], 0, 0
    for rel in files:
        full = os.path.join(root, rel)
        if not os.path.exists(full):
            problems.append(f'{rel}: missing')
            continue
        lines = without_code_blocks(open(full, encoding='utf-8').read())
        text = '\n'.join(lines)
        for match in LINK.finditer(text):
            target = match.group(1)
            if re.match(r'^[a-z]+:', target):  # http:, https:, mailto:
                continue
            links += 1
            where = f'{rel}:{text.count(chr(10), 0, match.start()) + 1}'
            path, _, anchor = target.partition('#')
            dest = os.path.normpath(os.path.join(os.path.dirname(full), path)) if path else full
            if not os.path.exists(dest):
                problems.append(f'{where}: {target}: no such file')
            elif anchor and not dest.endswith('.md'):
                problems.append(f'{where}: {target}: an anchor into a file that is not markdown')
            elif anchor and anchor not in anchors_of(dest):
                problems.append(f'{where}: {target}: no heading makes #{anchor}')
        for number, line in enumerate(lines, 1):
            for match in re.finditer(r'`([^`\s]+)`', line):
                token = match.group(1).rstrip('.,:;')
                if not token.startswith(TOP_DIRS) or any(c in token for c in '*{}<>$=['):
                    continue
                paths += 1
                if not os.path.exists(os.path.join(root, token)):
                    problems.append(f'{rel}:{number}: `{token}`: no such path in the repository')
    return files, links, paths, problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
    files, links, paths, problems = check(os.path.abspath(root))
    for problem in problems:
        print(problem)
    print(f'{len(files)} files: {links} relative links, {paths} repository paths, '
          f'{len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
