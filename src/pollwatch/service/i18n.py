"""Interface strings in English, Azerbaijani and Russian; the language is chosen per user."""

from __future__ import annotations

LANGS = ("en", "az", "ru")

STRINGS: dict[str, dict[str, str]] = {
    "login": {"en": "Log in", "az": "Daxil ol", "ru": "Войти"},
    "logout": {"en": "Log out", "az": "Çıxış", "ru": "Выйти"},
    "username": {"en": "Username", "az": "İstifadəçi adı", "ru": "Имя пользователя"},
    "password": {"en": "Password", "az": "Şifrə", "ru": "Пароль"},
    "bad_login": {
        "en": "Incorrect username or password",
        "az": "İstifadəçi adı və ya şifrə yanlışdır",
        "ru": "Неверное имя пользователя или пароль",
    },
    "my_stations": {"en": "My stations", "az": "Məntəqələrim", "ru": "Мои участки"},
    "station": {"en": "Station", "az": "Məntəqə", "ru": "Участок"},
    "registered": {
        "en": "Registered voters",
        "az": "Qeydiyyatdakı seçicilər",
        "ru": "Избирателей в списке",
    },
    "checklist": {"en": "Checklist", "az": "Yoxlama siyahısı", "ru": "Чек-лист"},
    "incident": {"en": "Incident", "az": "Hadisə", "ru": "Нарушение"},
    "protocol": {"en": "Protocol copy", "az": "Protokol surəti", "ru": "Копия протокола"},
    "category": {"en": "Category", "az": "Kateqoriya", "ru": "Категория"},
    "severity": {"en": "Severity", "az": "Ciddilik", "ru": "Серьёзность"},
    "time": {"en": "Time", "az": "Vaxt", "ru": "Время"},
    "description": {"en": "Description", "az": "Təsvir", "ru": "Описание"},
    "photo": {"en": "Photo", "az": "Foto", "ru": "Фото"},
    "send": {"en": "Send", "az": "Göndər", "ru": "Отправить"},
    "yes": {"en": "Yes", "az": "Bəli", "ru": "Да"},
    "no": {"en": "No", "az": "Xeyr", "ru": "Нет"},
    "saved": {
        "en": "Received. Thank you.",
        "az": "Qəbul edildi. Təşəkkürlər.",
        "ru": "Принято. Спасибо.",
    },
    "queued": {
        "en": "Offline: saved on this phone, will be sent when the connection returns.",
        "az": "Oflayn: telefonda saxlanıldı, bağlantı bərpa olunanda göndəriləcək.",
        "ru": "Нет связи: сохранено на телефоне, отправится при восстановлении связи.",
    },
    "unsent": {
        "en": "Unsent reports",
        "az": "Göndərilməmiş hesabatlar",
        "ru": "Неотправленные отчёты",
    },
    "dashboard": {"en": "Dashboard", "az": "İdarə paneli", "ru": "Панель координатора"},
    "coverage": {
        "en": "Checklist coverage",
        "az": "Yoxlama siyahılarının əhatəsi",
        "ru": "Покрытие чек-листов",
    },
    "complete": {"en": "complete", "az": "tam", "ru": "полные"},
    "partial": {"en": "partial", "az": "natamam", "ru": "частичные"},
    "missing": {"en": "missing", "az": "çatışmır", "ru": "нет"},
    "latest_incidents": {
        "en": "Latest incidents",
        "az": "Son hadisələr",
        "ru": "Последние нарушения",
    },
    "review_queue": {"en": "Review queue", "az": "Yoxlama növbəsi", "ru": "Очередь проверки"},
    "verify": {"en": "Verify", "az": "Təsdiqlə", "ru": "Подтвердить"},
    "reject": {"en": "Reject", "az": "Rədd et", "ru": "Отклонить"},
    "reason": {"en": "Reason", "az": "Səbəb", "ru": "Причина"},
    "flags": {"en": "Flags", "az": "Qeydlər", "ru": "Отметки"},
    "status": {"en": "Status", "az": "Status", "ru": "Статус"},
    "nothing": {"en": "Nothing here yet.", "az": "Hələ heç nə yoxdur.", "ru": "Пока ничего нет."},
}


def translator(lang: str):
    lang = lang if lang in LANGS else "en"

    def t(key: str) -> str:
        texts = STRINGS.get(key)
        return key if texts is None else texts.get(lang, texts["en"])

    return t
