#!/usr/bin/env python3
"""The deployment packages of the votecheck Lambda functions: their manifest and their zip file.

`infra/package.sh` builds the index and the `bootstrap` binary (the webhook), or only the binary
(the alert sender), into a staging directory, then calls this script (standard library only,
Python 3.11 or newer); `--function` is `webhook` (the default) or `sender`:

    package_zip.py manifest [--function F] --staging DIR --arch x86_64 --source-date-epoch N --repository ROOT
        checks the staged files (layout, architecture and C library of `bootstrap`, Lambda's size
        limits) and writes DIR/package.json: what the package holds and where it came from.
    package_zip.py write [--function F] --staging DIR --out FILE.zip --source-date-epoch N
        writes the zip: entries in sorted order, every time stamp set to SOURCE_DATE_EPOCH,
        `bootstrap` mode 755 and every other file 644 (Lambda needs world-readable files), no
        extra fields; the same staged bytes always give the same zip bytes (with the same zlib).
    package_zip.py list FILE.zip
        prints the entries as JSON (name, mode, size, compressed size, CRC, time stamp), for tests.
    package_zip.py extract FILE.zip DIR
        extracts with the modes recorded in the zip, as Lambda does (Python's own extraction drops
        them, and `bootstrap` would not be executable).

Layout of the webhook's zip (Lambda's `provided.al2023` runtime runs `/var/task/bootstrap`):

    bootstrap           the function (handler `bootstrap`)
    index/              the tantivy index and its manifest.json (VOTECHECK_INDEX_DIR defaults here)
    model/              the sentence encoder's model file (VOTECHECK_MODEL defaults here), when the
                        index has passage vectors
    package.json        this package's manifest

The sender's zip holds only `bootstrap` (the `votecheck-sender` binary) and `package.json`,
whose `function` is `votecheck-sender` and which has no `index` or `model` record; anything else
staged is refused (an index in the sender's package would be a mix-up of the two packages).
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile

# Lambda's documented limits for a .zip deployment package.
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
DIRECT_UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024
# The C library of Amazon Linux 2023 (`provided.al2023`): a binary that needs a newer one would
# fail at start with "GLIBC_2.xx not found".
RUNTIME_GLIBC = (2, 34)
ELF_MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}
PACKAGE_FORMAT = 1
# The `function` recorded in each package's manifest, by the name package.sh's --function takes.
FUNCTION_NAMES = {"webhook": "votecheck", "sender": "votecheck-sender"}
# The files each package must hold (package.json is written by `manifest`).
REQUIRED_FILES = {
    "webhook": ("bootstrap", "package.json", "index/manifest.json", "index/meta.json"),
    "sender": ("bootstrap", "package.json"),
}


def fail(message):
    print(f"package: {message}", file=sys.stderr)
    sys.exit(1)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def staged_files(staging):
    """Every file below `staging`, as sorted relative POSIX paths."""
    found = []
    for root, directories, files in os.walk(staging):
        directories.sort()
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                fail(f"{path} is a symbolic link; the package holds plain files only")
            found.append(os.path.relpath(path, staging).replace(os.sep, "/"))
    return sorted(found)


def elf_machine(path):
    with open(path, "rb") as file:
        header = file.read(20)
    if header[:4] != b"\x7fELF" or header[5] != 1:
        return None
    return int.from_bytes(header[18:20], "little")


def glibc_versions(path):
    """The GLIBC symbol versions a binary refers to (read from its bytes: no binutils needed)."""
    with open(path, "rb") as file:
        data = file.read()
    versions = {tuple(int(part) for part in match.split(b".")) for match in re.findall(rb"GLIBC_(\d+\.\d+)", data)}
    return sorted(versions)


def workspace_version(repository):
    with open(os.path.join(repository, "Cargo.toml"), "rb") as file:
        return tomllib.load(file)["workspace"]["package"]["version"]


def source_commit(repository):
    """The repository's commit and whether the work tree had changes, or None outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", repository, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", repository, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": commit, "uncommitted_changes": bool(status.strip())}


def zip_time(source_date_epoch):
    """The zip time stamp for SOURCE_DATE_EPOCH (UTC; zip cannot go before 1980)."""
    moment = datetime.datetime.fromtimestamp(max(source_date_epoch, 315532800), datetime.timezone.utc)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def check_bootstrap(bootstrap, arch):
    """Refuses a `bootstrap` for another architecture or a newer C library than the runtime's;
    returns the GLIBC versions it needs."""
    machine = elf_machine(bootstrap)
    if machine != ELF_MACHINES[arch]:
        found = {value: name for name, value in ELF_MACHINES.items()}.get(machine, f"not a 64-bit ELF executable ({machine})")
        fail(f"{bootstrap} is built for {found}, not for {arch} (the template's Architecture parameter must match)")
    versions = glibc_versions(bootstrap)
    if versions and versions[-1] > RUNTIME_GLIBC:
        newest = ".".join(map(str, versions[-1]))
        runtime = ".".join(map(str, RUNTIME_GLIBC))
        fail(
            f"{bootstrap} needs GLIBC_{newest} but provided.al2023 has glibc {runtime}: build on an older "
            "system or with cargo-lambda (zig), which targets an older glibc"
        )
    return versions


def bootstrap_entry(arguments, bootstrap, versions, size):
    """The manifest's record of the binary."""
    return {
        "version": workspace_version(arguments.repository),
        "built_by": arguments.built_by,
        "bytes": size,
        "sha256": sha256_of(bootstrap),
        "glibc_required": ".".join(map(str, versions[-1])) if versions else None,
    }


def write_manifest(staging, package, sizes):
    """Writes package.json after checking Lambda's unzipped size limit."""
    text = json.dumps(package, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    unzipped = sum(sizes.values()) + len(text.encode("utf-8"))
    if unzipped > UNZIPPED_LIMIT_BYTES:
        fail(f"the package unzips to {unzipped} bytes, over Lambda's limit of {UNZIPPED_LIMIT_BYTES} (250 MB)")
    with open(os.path.join(staging, "package.json"), "w", encoding="utf-8") as file:
        file.write(text)


def command_manifest(arguments):
    staging = arguments.staging
    bootstrap = os.path.join(staging, "bootstrap")
    if not os.path.isfile(bootstrap):
        fail(f"{bootstrap} is missing: the handler `bootstrap` must sit at the package's root")
    if arguments.function == "sender":
        sender_manifest(arguments, bootstrap)
        return
    index = os.path.join(staging, "index")
    for required in ("manifest.json", "meta.json"):
        if not os.path.isfile(os.path.join(index, required)):
            fail(f"{os.path.join(index, required)} is missing: index/ does not hold a votecheck index")
    versions = check_bootstrap(bootstrap, arguments.arch)
    with open(os.path.join(index, "manifest.json"), encoding="utf-8") as file:
        index_manifest = json.load(file)
    files = [name for name in staged_files(staging) if name != "package.json"]
    sizes = {name: os.path.getsize(os.path.join(staging, name)) for name in files}
    index_files = {
        name[len("index/"):]: {"bytes": sizes[name], "sha256": sha256_of(os.path.join(staging, name))}
        for name in files
        if name.startswith("index/")
    }
    corpus_hash = index_manifest["corpus_hash"]
    model = model_entry(staging, index_manifest, sizes)
    package = {
        "format": PACKAGE_FORMAT,
        "function": FUNCTION_NAMES["webhook"],
        "runtime": "provided.al2023",
        "handler": "bootstrap",
        "architecture": arguments.arch,
        "source_date_epoch": arguments.source_date_epoch,
        "source": source_commit(arguments.repository),
        "bootstrap": bootstrap_entry(arguments, bootstrap, versions, sizes["bootstrap"]),
        "index": {
            "corpus_hash": corpus_hash,
            "corpus_version": corpus_hash[:12],
            "built_at": index_manifest["built_at"],
            "schema_version": index_manifest["schema_version"],
            "builder": f'{index_manifest["builder"]["name"]} {index_manifest["builder"]["version"]}',
            "documents": index_manifest["counts"]["documents"],
            "passages": index_manifest["counts"]["passages"],
            "fact_checks": index_manifest["counts"]["fact_checks"],
            "warnings": len(index_manifest["warnings"]),
            "bytes": sum(entry["bytes"] for entry in index_files.values()),
            "files": index_files,
        },
        "model": model,
    }
    write_manifest(staging, package, sizes)


def sender_manifest(arguments, bootstrap):
    """The alert sender's manifest: the binary alone (no index, no model)."""
    files = [name for name in staged_files(arguments.staging) if name != "package.json"]
    if files != ["bootstrap"]:
        extra = [name for name in files if name != "bootstrap"]
        fail(f"the sender's package holds only bootstrap, but {', '.join(extra)} is staged in {arguments.staging}")
    versions = check_bootstrap(bootstrap, arguments.arch)
    size = os.path.getsize(bootstrap)
    package = {
        "format": PACKAGE_FORMAT,
        "function": FUNCTION_NAMES["sender"],
        "runtime": "provided.al2023",
        "handler": "bootstrap",
        "architecture": arguments.arch,
        "source_date_epoch": arguments.source_date_epoch,
        "source": source_commit(arguments.repository),
        "bootstrap": bootstrap_entry(arguments, bootstrap, versions, size),
    }
    write_manifest(arguments.staging, package, {"bootstrap": size})


MODEL_FILE = "model/multilingual-e5-small-q4.vce"


def model_header(path):
    """The JSON header of an encoder model file (magic, u64 length, JSON; see
    functions/encoder/src/model_file.rs)."""
    with open(path, "rb") as file:
        if file.read(8) != b"VCENC001":
            fail(f"{path} is not a votecheck encoder model file")
        length = int.from_bytes(file.read(8), "little")
        return json.loads(file.read(length))


def model_entry(staging, index_manifest, sizes):
    """The package manifest's record of the bundled model, checked against the index: an index
    with passage vectors needs the very model that made them."""
    embedding = index_manifest.get("embedding")
    path = os.path.join(staging, MODEL_FILE)
    if embedding is None:
        return None
    if not os.path.isfile(path):
        fail(f"the index has passage vectors by {embedding['model_id']} but {MODEL_FILE} is not staged")
    header = model_header(path)
    if header["model_id"] != embedding["model_id"]:
        fail(f"{MODEL_FILE} is {header['model_id']} but the index was built with {embedding['model_id']}")
    return {
        "id": header["model_id"],
        "file": MODEL_FILE,
        "bytes": sizes[MODEL_FILE],
        "sha256": sha256_of(path),
        "provenance": header["provenance"],
    }


def command_write(arguments):
    names = staged_files(arguments.staging)
    for required in REQUIRED_FILES[arguments.function]:
        if required not in names:
            fail(f"{required} is not staged in {arguments.staging}")
    stamp = zip_time(arguments.source_date_epoch)
    directory = os.path.dirname(os.path.abspath(arguments.out))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".package-", suffix=".zip", dir=directory)
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for name in names:
                entry = zipfile.ZipInfo(name, date_time=stamp)
                entry.create_system = 3  # Unix, so that Lambda reads the modes below
                mode = 0o755 if name == "bootstrap" else 0o644
                entry.external_attr = (0o100000 | mode) << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                with open(os.path.join(arguments.staging, name), "rb") as file:
                    archive.writestr(entry, file.read(), compresslevel=6)
        os.chmod(temporary, 0o644)
        os.replace(temporary, arguments.out)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    zipped = os.path.getsize(arguments.out)
    unzipped = sum(os.path.getsize(os.path.join(arguments.staging, name)) for name in names)
    print(
        f"package: wrote {arguments.out}: {zipped} bytes zipped ({zipped / 1e6:.1f} MB), "
        f"{unzipped} bytes unzipped ({unzipped / 1e6:.1f} MB), {len(names)} files",
        file=sys.stderr,
    )
    if zipped > DIRECT_UPLOAD_LIMIT_BYTES:
        print(
            "package: note: over 50 MB zipped, too large to upload to Lambda directly; "
            "`sam deploy` uploads through S3, which is fine up to 250 MB unzipped",
            file=sys.stderr,
        )


def command_list(arguments):
    with zipfile.ZipFile(arguments.zip) as archive:
        entries = [
            {
                "name": entry.filename,
                "mode": (entry.external_attr >> 16) & 0o7777,
                "create_system": entry.create_system,
                "bytes": entry.file_size,
                "compressed_bytes": entry.compress_size,
                "crc": entry.CRC,
                "date_time": list(entry.date_time),
            }
            for entry in archive.infolist()
        ]
    json.dump(entries, sys.stdout, indent=1)
    sys.stdout.write("\n")


def command_extract(arguments):
    with zipfile.ZipFile(arguments.zip) as archive:
        for entry in archive.infolist():
            target = os.path.realpath(os.path.join(arguments.directory, entry.filename))
            if not target.startswith(os.path.realpath(arguments.directory) + os.sep):
                fail(f"{entry.filename} would be extracted outside {arguments.directory}")
            archive.extract(entry, arguments.directory)
            mode = (entry.external_attr >> 16) & 0o7777
            if mode and not entry.is_dir():
                os.chmod(target, mode)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    manifest = commands.add_parser("manifest", help="check the staged files and write package.json")
    manifest.add_argument("--function", choices=sorted(FUNCTION_NAMES), default="webhook")
    manifest.add_argument("--staging", required=True)
    manifest.add_argument("--arch", required=True, choices=sorted(ELF_MACHINES))
    manifest.add_argument("--source-date-epoch", required=True, type=int)
    manifest.add_argument("--repository", required=True)
    manifest.add_argument("--built-by", required=True, help="how bootstrap was built, in words")
    write = commands.add_parser("write", help="write the reproducible zip")
    write.add_argument("--function", choices=sorted(FUNCTION_NAMES), default="webhook")
    write.add_argument("--staging", required=True)
    write.add_argument("--out", required=True)
    write.add_argument("--source-date-epoch", required=True, type=int)
    listing = commands.add_parser("list", help="print the zip's entries as JSON")
    listing.add_argument("zip")
    extract = commands.add_parser("extract", help="extract with the recorded file modes")
    extract.add_argument("zip")
    extract.add_argument("directory")
    arguments = parser.parse_args()
    {"manifest": command_manifest, "write": command_write, "list": command_list, "extract": command_extract}[
        arguments.command
    ](arguments)


if __name__ == "__main__":
    main()
