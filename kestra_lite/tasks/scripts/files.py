"""Files in and out of a script's working directory.

- `inputFiles`: a map (or an expression rendering to a JSON map) of relative file names to
  contents; a content that is a kestra:// URI of this execution is copied from internal
  storage.
- kestra:// URIs in the commands or the script are downloaded into the working directory
  and replaced by the local path, as Kestra does.
- `outputFiles`: globs relative to the working directory (Java glob syntax as in Kestra:
  `*` stays within a directory, `**` crosses directories, `{a,b}` alternatives); the files
  they match, plus every file of the output directory, are uploaded to internal storage.
"""
from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

from kestra_lite.tasks.base import RunContext, TaskFailed
from kestra_lite.tasks.scripts.process import WorkingDirectory

KESTRA_URI = re.compile(r"kestra://[^\s\"'`<>]+")


def write_input_files(ctx: RunContext, directory: WorkingDirectory) -> None:
    for name, content in input_files(ctx).items():
        target = inside(directory.path, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file_content(ctx, content))


def input_files(ctx: RunContext) -> dict:
    """The rendered `inputFiles` map."""
    spec = ctx.task.props.get("inputFiles")
    if spec is None:
        return {}
    if isinstance(spec, str):
        try:
            spec = json.loads(ctx.render(spec))
        except ValueError:
            spec = None
    if not isinstance(spec, dict):
        raise TaskFailed("inputFiles must be a map of file names to contents "
                         "(or an expression rendering to a JSON map)")
    return {str(ctx.render(str(name))): ctx.render(content) for name, content in spec.items()}


def file_content(ctx: RunContext, content) -> bytes:
    if not isinstance(content, str):
        content = json.dumps(content)
    if KESTRA_URI.fullmatch(content.strip()):
        return ctx.services.read_file(content.strip())
    return content.encode()


def inside(root: Path, name: str) -> Path:
    """`root/name`, refusing names that leave `root`."""
    relative = PurePosixPath(name.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise TaskFailed(f"Invalid file name `{name}`: expected a path relative to the "
                         "working directory")
    return root.joinpath(*relative.parts)


def localize_uris(ctx: RunContext, text: str, directory: WorkingDirectory) -> str:
    """Download the kestra:// files `text` names and put their local path in their place."""
    def download(found: re.Match) -> str:
        uri = found.group(0)
        target = free_name(directory.path, PurePosixPath(uri).name or "file")
        target.write_bytes(ctx.services.read_file(uri))
        return str(target)
    return KESTRA_URI.sub(download, text)


def free_name(root: Path, name: str) -> Path:
    target, number = root / name, 1
    while target.exists():
        target, number = root / f"{number}-{name}", number + 1
    return target


def upload_output_files(ctx: RunContext, directory: WorkingDirectory, globs: list[str],
                        skip: set[Path]) -> dict[str, str]:
    """Name -> kestra:// URI of the output files (`skip`: files the task itself wrote)."""
    found = {name: path for name, path in matching_files(directory.path, globs).items()
             if path not in skip and directory.output_dir not in path.parents}
    found.update({_relative(path, directory.output_dir): path
                  for path in sorted(directory.output_dir.rglob("*")) if path.is_file()})
    return {name: ctx.services.put_file(name, path.read_bytes()) for name, path in found.items()}


def matching_files(root: Path, globs: list[str]) -> dict[str, Path]:
    patterns = [glob_regex(glob) for glob in globs]
    files = {}
    for path in sorted(root.rglob("*")):
        name = _relative(path, root)
        if path.is_file() and any(pattern.fullmatch(name) for pattern in patterns):
            files[name] = path
    return files


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def glob_regex(glob: str) -> re.Pattern:
    """A Java-style glob (as Kestra's outputFiles use) as a regular expression."""
    glob = glob.removeprefix("./")
    out, depth, index = [], 0, 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "[" and "]" in glob[index + 2:]:
            end = glob.index("]", index + 2)
            out.append(_char_class(glob[index + 1:end]))
            index = end + 1
            continue
        if char == "{":
            depth += 1
            out.append("(?:")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        elif char == "," and depth:
            out.append("|")
        else:
            out.append(_WILDCARDS.get(char) or re.escape(char))
        index += 1
    return re.compile("".join(out))


_WILDCARDS = {"*": "[^/]*", "?": "[^/]"}


def _char_class(body: str) -> str:
    """`[abc]` / `[!abc]` (body without brackets) as a regex class."""
    if body.startswith("!"):
        body = "^" + body[1:]
    return "[" + body.replace("\\", "\\\\") + "]"
