"""Words for people: the CBV business steps, dispositions, event types and actions, and the scan verdicts, in
English and Chinese (zh-CN).

The one place a code word (``shipping``, ``recalled``, ``RECALLED``) becomes something a person reads, so the scan
timeline, the CLI and later the message catalogues take their words from the same table. A word the table lacks
comes back as the code itself (a CBV URI, an extension step), never as an error. The English words follow the CBV
2.0 definitions (GS1 Core Business Vocabulary §7.2–7.3); the Chinese ones are this project's translations, with
the terms of the food safety law (召回, 销毁, 检验) where it has them.
"""

from __future__ import annotations

from typing import Final

__all__ = ["KINDS", "LANGUAGES", "describe", "word"]

LANGUAGES: Final = ("en", "zh")
"""The languages every word is given in: English and simplified Chinese."""

# (English, Chinese) for each code word, by kind.
_STEPS: Final[dict[str, tuple[str, str]]] = {
    "accepting": ("accepted", "验收接收"),
    "arriving": ("arrived", "到达"),
    "assembling": ("assembled", "组装"),
    "collecting": ("collected", "收集"),
    "commissioning": ("code issued (commissioned)", "生产赋码"),
    "consigning": ("consigned", "托运"),
    "creating_class_instance": ("lot created", "创建批次"),
    "cycle_counting": ("cycle counted", "循环盘点"),
    "decommissioning": ("code retired (decommissioned)", "注销赋码"),
    "departing": ("departed", "离开"),
    "destroying": ("destroyed", "销毁"),
    "disassembling": ("disassembled", "拆解"),
    "dispensing": ("dispensed to the user", "发放使用"),
    "encoding": ("encoded", "编码"),
    "entering_exiting": ("entered or left", "进出"),
    "holding": ("held", "暂扣封存"),
    "inspecting": ("inspected", "检验"),
    "installing": ("installed", "安装"),
    "killing": ("tag disabled", "标签灭活"),
    "loading": ("loaded", "装载"),
    "other": ("other step", "其他环节"),
    "packing": ("packed", "包装装箱"),
    "picking": ("picked", "拣货"),
    "receiving": ("received", "收货"),
    "removing": ("removed", "移除"),
    "repackaging": ("repackaged", "重新包装"),
    "repairing": ("repaired", "维修"),
    "replacing": ("replaced", "更换"),
    "reserving": ("reserved", "预留"),
    "retail_selling": ("sold at retail", "零售销售"),
    "sampling": ("sampled", "抽样"),
    "sensor_reporting": ("sensor reading", "传感器上报"),
    "shipping": ("shipped", "发货"),
    "staging_outbound": ("staged for shipping", "出库备货"),
    "stock_taking": ("stock taken", "盘点"),
    "stocking": ("stocked", "上架"),
    "storing": ("stored", "仓储"),
    "transporting": ("in transport", "运输"),
    "unloading": ("unloaded", "卸货"),
    "unpacking": ("unpacked", "拆箱"),
    "void_shipping": ("shipment cancelled", "取消发货"),
}

_DISPOSITIONS: Final[dict[str, tuple[str, str]]] = {
    "active": ("active", "已激活"),
    "available": ("available", "可用"),
    "completeness_inferred": ("completeness inferred", "完整性推定"),
    "completeness_verified": ("completeness verified", "完整性已核实"),
    "conformant": ("conformant", "合格"),
    "container_closed": ("container closed", "容器已封闭"),
    "container_open": ("container open", "容器已开启"),
    "damaged": ("damaged", "损坏"),
    "destroyed": ("destroyed", "已销毁"),
    "dispensed": ("dispensed", "已发放"),
    "disposed": ("disposed of", "已处置"),
    "encoded": ("encoded", "已编码"),
    "expired": ("expired", "已过期"),
    "in_progress": ("in progress", "处理中"),
    "in_transit": ("in transit", "运输中"),
    "inactive": ("inactive", "未激活"),
    "mismatch_instance": ("instance mismatch", "实例不符"),
    "mismatch_class": ("class mismatch", "类别不符"),
    "mismatch_quantity": ("quantity mismatch", "数量不符"),
    "needs_replacement": ("needs replacement", "需要更换"),
    "no_pedigree_match": ("no pedigree match", "谱系不符"),
    "non_conformant": ("non-conformant", "不合格"),
    "non_sellable_other": ("not for sale", "不可销售"),
    "partially_dispensed": ("partly dispensed", "部分发放"),
    "recalled": ("recalled", "已召回"),
    "reserved": ("reserved", "已预留"),
    "retail_sold": ("sold", "已售出"),
    "returned": ("returned", "已退回"),
    "sellable_accessible": ("on sale", "在售"),
    "sellable_not_accessible": ("sellable, not on the shelf", "可售未上架"),
    "stolen": ("stolen", "被盗"),
    "unavailable": ("unavailable", "不可用"),
    "unknown": ("unknown", "未知"),
}

_TYPES: Final[dict[str, tuple[str, str]]] = {
    "ObjectEvent": ("object event", "对象事件"),
    "AggregationEvent": ("aggregation event", "聚合（装箱）事件"),
    "TransformationEvent": ("transformation event", "转化（加工）事件"),
    "TransactionEvent": ("transaction event", "交易事件"),
    "AssociationEvent": ("association event", "关联事件"),
}

_ACTIONS: Final[dict[str, tuple[str, str]]] = {
    "ADD": ("added", "新增"),
    "OBSERVE": ("observed", "观察"),
    "DELETE": ("removed", "删除"),
}

_VERDICTS: Final[dict[str, tuple[str, str]]] = {
    "GENUINE": ("genuine", "正品"),
    "UNKNOWN_CODE": ("unknown code: correctly signed, but never recorded", "未登记：签名有效但无流通记录"),
    "FORGED": ("forged code", "伪造码"),
    "RECALLED": ("recalled: do not use", "已召回：请勿使用"),
    "EXPIRED": ("expired", "已过期"),
    "DESTROYED_OR_SOLD": ("destroyed or already sold: should not be on sale", "已销毁或已售出：不应在流通中"),
    "SUSPECTED_CLONE": ("suspected copied code", "疑似复制码"),
    "UNWITNESSED": (
        "not vouched for: the witnesses required have not cosigned the record",
        "未获见证：记录缺少所需见证方的联署",
    ),
}

_VIA: Final[dict[str, tuple[str, str]]] = {
    "item": ("this item", "本品"),
    "container": ("its case or pallet", "所在包装"),
    "lot": ("its lot", "所属批次"),
    "input": ("an ingredient lot", "原料批次"),
}

_TABLES: Final = {
    "step": _STEPS,
    "disposition": _DISPOSITIONS,
    "type": _TYPES,
    "action": _ACTIONS,
    "verdict": _VERDICTS,
    "via": _VIA,
}

KINDS: Final = tuple(_TABLES)
"""The kinds of word: ``step``, ``disposition``, ``type``, ``action``, ``verdict`` and ``via`` (how an event
concerns a scanned item)."""


def word(kind: str, value: str, language: str = "en") -> str:
    """The word for ``value`` of ``kind`` in ``language`` (``en`` or ``zh``); the value itself when the table has
    none (an extension step, a URI). An unknown kind or language is a programming error (``KeyError``)."""
    table = _TABLES[kind]
    position = LANGUAGES.index(language)
    found = table.get(value)
    return found[position] if found is not None else value


def describe(kind: str, value: str) -> dict[str, str]:
    """``{"code": value, "en": …, "zh": …}``: a value with its words in every language."""
    return {"code": value, **{language: word(kind, value, language) for language in LANGUAGES}}
