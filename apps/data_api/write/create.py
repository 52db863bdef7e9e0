"""createX and createManyX: new records, all or none."""

from __future__ import annotations

from .base import Mutation


class Create(Mutation):
    operation = "create"

    def perform(self, args: dict) -> str:
        reader = self.reader(args)
        record = reader.read(args["input"], "", creating=True)
        self.checked(reader, [record])
        self.insert([record], reader.ends)
        return self.one_json(record.id)


class CreateMany(Mutation):
    operation = "create"

    def perform(self, args: dict) -> str:
        items = self.counted(args["input"])
        reader = self.reader(args)
        records = [reader.read(item, f"[{i}]", creating=True) for i, item in enumerate(items)]
        self.checked(reader, records)
        self.insert(records, reader.ends)
        return self.list_json([r.id for r in records])
