#!/usr/bin/env python3
# oci-image.py ROOTFS OUT.tar NAME: an OCI image archive (image-spec 1.0 image
# layout, tarred) with ROOTFS as its one uncompressed layer, for clients that
# import images offline (`ctr images import`). NAME (e.g.
# docker.io/library/vkbusybox:latest) goes into the index's annotations.
import hashlib
import io
import json
import os
import platform
import sys
import tarfile

ARCH = {'x86_64': 'amd64', 'aarch64': 'arm64', 'riscv64': 'riscv64'}


def layer(rootfs):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
        for top, dirs, files in os.walk(rootfs):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                path = os.path.join(top, name)
                info = t.gettarinfo(path, os.path.relpath(path, rootfs))
                info.mtime = 0
                if info.isreg():
                    with open(path, 'rb') as f:
                        t.addfile(info, f)
                else:
                    t.addfile(info)
    return buf.getvalue()


def blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo('blobs/sha256/' + digest)
    info.size = len(data)
    out.addfile(info, io.BytesIO(data))
    return 'sha256:' + digest, len(data)


def add(out, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    out.addfile(info, io.BytesIO(data))


def main():
    rootfs, dest, name = sys.argv[1:4]
    tar = layer(rootfs)
    with tarfile.open(dest, 'w') as out:
        add(out, 'oci-layout', json.dumps({'imageLayoutVersion': '1.0.0'}).encode())
        ldigest, lsize = blob(out, tar)
        config = {
            'architecture': ARCH.get(platform.machine(), platform.machine()),
            'os': 'linux',
            'config': {'Env': ['PATH=/bin:/sbin'], 'Cmd': ['/bin/sh'], 'WorkingDir': '/'},
            'rootfs': {'type': 'layers', 'diff_ids': [ldigest]},
        }
        cdigest, csize = blob(out, json.dumps(config).encode())
        manifest = {
            'schemaVersion': 2,
            'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'config': {'mediaType': 'application/vnd.oci.image.config.v1+json',
                       'digest': cdigest, 'size': csize},
            'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar',
                        'digest': ldigest, 'size': lsize}],
        }
        mdigest, msize = blob(out, json.dumps(manifest).encode())
        index = {
            'schemaVersion': 2,
            'manifests': [{
                'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                'digest': mdigest, 'size': msize,
                'annotations': {'io.containerd.image.name': name,
                                'org.opencontainers.image.ref.name': name.rsplit(':', 1)[-1]},
            }],
        }
        add(out, 'index.json', json.dumps(index).encode())


main()
