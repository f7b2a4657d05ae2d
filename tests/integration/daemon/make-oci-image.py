#!/usr/bin/env python3
"""Write an OCI image layout (image-spec image-layout.md) for the tests, from a root folder.

usage: make-oci-image.py LAYOUT_DIR ROOTFS [--archive FILE] [--arch amd64] [--cmd ARG]...
                         [--bad layer-digest|config-digest|short-blob|dotdot|abs-symlink|
                          dotdot-symlink|abs-name|hardlink-out|other-arch]
The image has two layers: the root folder (gzip), then a small second layer (plain tar) that
adds /etc/image-layer2 and deletes /etc/to-be-whited-out with a whiteout (so the test can
check whiteouts). --bad makes one thing wrong, as a hostile or broken image would have it.
--archive also writes the layout as a tar archive (oci-archive).
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile


def blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(layout, 'blobs', 'sha256'), exist_ok=True)
    with open(os.path.join(layout, 'blobs', 'sha256', d), 'wb') as f:
        f.write(data)
    return 'sha256:' + d


def tar_bytes(add):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
        add(t)
    return buf.getvalue()


def file_info(name, data=b'', mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = mode
    ti.mtime = 0
    return ti, io.BytesIO(data)


def layer2(bad):
    def add(t):
        t.addfile(*file_info('etc/image-layer2', b'from layer 2\n'))
        t.addfile(*file_info('etc/.wh.to-be-whited-out'))
        if bad == 'dotdot':
            t.addfile(*file_info('../../escaped-dotdot', b'x\n'))
        elif bad == 'abs-name':
            t.addfile(*file_info('/escaped-abs', b'x\n'))
        elif bad in ('abs-symlink', 'dotdot-symlink'):
            link = tarfile.TarInfo('evil-link')
            link.type = tarfile.SYMTYPE
            link.linkname = '/tmp' if bad == 'abs-symlink' else '../../../../tmp'
            t.addfile(link)
            t.addfile(*file_info('evil-link/escaped-through-symlink', b'x\n'))
        elif bad == 'hardlink-out':
            h = tarfile.TarInfo('etc/hard')
            h.type = tarfile.LNKTYPE
            h.linkname = '../../etc/passwd'
            t.addfile(h)
    return tar_bytes(add)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('layout')
    ap.add_argument('rootfs')
    ap.add_argument('--archive')
    ap.add_argument('--arch', default='amd64')
    ap.add_argument('--cmd', action='append')
    ap.add_argument('--bad')
    a = ap.parse_args()
    os.makedirs(a.layout, exist_ok=True)

    def add_root(t):
        for entry in sorted(os.listdir(a.rootfs)):
            t.add(os.path.join(a.rootfs, entry), arcname=entry)
        t.addfile(*file_info('etc/to-be-whited-out', b'gone in layer 2\n'))
    raw1 = tar_bytes(add_root)
    l1 = gzip.compress(raw1, mtime=0)
    l2 = layer2(a.bad)
    layers = [(l1, 'application/vnd.oci.image.layer.v1.tar+gzip', raw1),
              (l2, 'application/vnd.oci.image.layer.v1.tar', l2)]
    descs = []
    for data, mt, raw in layers:
        d = blob(a.layout, data)
        descs.append({'mediaType': mt, 'digest': d, 'size': len(data)})
    if a.bad == 'layer-digest':  # the blob on disk differs from what the manifest says
        p = os.path.join(a.layout, 'blobs', 'sha256', descs[1]['digest'][7:])
        data = bytearray(open(p, 'rb').read())
        data[600] ^= 0x55
        open(p, 'wb').write(bytes(data))
    if a.bad == 'short-blob':
        p = os.path.join(a.layout, 'blobs', 'sha256', descs[0]['digest'][7:])
        data = open(p, 'rb').read()
        open(p, 'wb').write(data[:len(data) // 2])
    config = {
        'architecture': 'riscv64' if a.bad == 'other-arch' else a.arch, 'os': 'linux',
        'config': {'Env': ['PATH=/bin:/sbin', 'IMAGE_TEST=1'],
                   'Cmd': a.cmd or ['sh'], 'WorkingDir': '/'},
        'rootfs': {'type': 'layers',
                   'diff_ids': ['sha256:' + hashlib.sha256(r).hexdigest() for _, _, r in layers]},
    }
    cfg = json.dumps(config).encode()
    cfg_digest = blob(a.layout, cfg)
    if a.bad == 'config-digest':  # the config blob was altered after it was hashed
        with open(os.path.join(a.layout, 'blobs', 'sha256', cfg_digest[7:]), 'wb') as f:
            f.write(cfg.replace(b'IMAGE_TEST=1', b'IMAGE_TEST=2'))
    manifest = json.dumps({
        'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
        'config': {'mediaType': 'application/vnd.oci.image.config.v1+json',
                   'digest': cfg_digest, 'size': len(cfg)},
        'layers': descs}).encode()
    md = blob(a.layout, manifest)
    index = {'schemaVersion': 2, 'manifests': [{
        'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': md,
        'size': len(manifest),
        'annotations': {'org.opencontainers.image.ref.name': 'latest'}}]}
    with open(os.path.join(a.layout, 'index.json'), 'w') as f:
        json.dump(index, f)
    with open(os.path.join(a.layout, 'oci-layout'), 'w') as f:
        json.dump({'imageLayoutVersion': '1.0.0'}, f)
    if a.archive:
        with tarfile.open(a.archive, 'w') as t:
            for entry in ('oci-layout', 'index.json', 'blobs'):
                t.add(os.path.join(a.layout, entry), arcname=entry)
    print(md[7:])


if __name__ == '__main__':
    main()
