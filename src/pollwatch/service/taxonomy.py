"""Built-in incident taxonomy, drawn from what monitors report (VoteMonitor's categories, Golos,
ISFED), with a short SMS code per category and labels in English, Azerbaijani and Russian."""

from __future__ import annotations

SEVERITIES = ("low", "medium", "high", "critical")

CATEGORIES: dict[str, dict] = {
    "carousel": {
        "sms": "CR",
        "en": "Carousel or group voting",
        "az": "Karusel və ya qrup səsverməsi",
        "ru": "Карусель или групповое голосование",
    },
    "ballot_stuffing": {
        "sms": "BS",
        "en": "Ballot stuffing",
        "az": "Bülleten doldurma",
        "ru": "Вброс бюллетеней",
    },
    "multiple_voting": {
        "sms": "MV",
        "en": "Multiple voting",
        "az": "Təkrar səsvermə",
        "ru": "Многократное голосование",
    },
    "coercion": {
        "sms": "CO",
        "en": "Voters coerced (workplace or administrative)",
        "az": "Seçicilərə təzyiq (iş yeri və ya inzibati)",
        "ru": "Принуждение избирателей (на работе или административное)",
    },
    "vote_buying": {
        "sms": "VB",
        "en": "Vote buying",
        "az": "Səs alveri",
        "ru": "Подкуп избирателей",
    },
    "observer_expelled": {
        "sms": "OE",
        "en": "Observer expelled or denied entry",
        "az": "Müşahidəçi çıxarıldı və ya buraxılmadı",
        "ru": "Наблюдателя удалили или не допустили",
    },
    "journalist_barred": {
        "sms": "JB",
        "en": "Journalist barred",
        "az": "Jurnalistin işinə mane olundu",
        "ru": "Журналисту воспрепятствовали",
    },
    "camera_muted": {
        "sms": "CM",
        "en": "Camera muted",
        "az": "Kameranın səsi söndürülüb",
        "ru": "Камера без звука",
    },
    "camera_turned_away": {
        "sms": "CT",
        "en": "Camera turned away",
        "az": "Kamera yayındırılıb",
        "ru": "Камера отвёрнута",
    },
    "camera_covered": {
        "sms": "CC",
        "en": "Camera covered",
        "az": "Kamera örtülüb",
        "ru": "Камера закрыта",
    },
    "camera_offline": {
        "sms": "CF",
        "en": "Camera offline",
        "az": "Kamera işləmir",
        "ru": "Камера отключена",
    },
    "protocol_not_posted": {
        "sms": "PN",
        "en": "Protocol not posted or copy refused",
        "az": "Protokol asılmayıb və ya surəti verilməyib",
        "ru": "Протокол не вывешен или копия не выдана",
    },
    "counting_irregularities": {
        "sms": "CI",
        "en": "Counting irregularities",
        "az": "Sayımda pozuntular",
        "ru": "Нарушения при подсчёте",
    },
    "unauthorised_persons": {
        "sms": "UP",
        "en": "Unauthorised persons",
        "az": "Kənar şəxslər",
        "ru": "Посторонние лица",
    },
    "violence": {
        "sms": "VI",
        "en": "Violence or intimidation",
        "az": "Zorakılıq və ya hədə",
        "ru": "Насилие или запугивание",
    },
    "other": {"sms": "OT", "en": "Other", "az": "Digər", "ru": "Другое"},
}

CAMERA_CATEGORIES = frozenset(c for c in CATEGORIES if c.startswith("camera_"))


def by_sms_code(code: str) -> str | None:
    code = code.upper()
    return next((k for k, v in CATEGORIES.items() if v["sms"] == code), None)
