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
    "too_many_logins": {
        "en": "Too many failed logins: try again later",
        "az": "Çoxlu uğursuz giriş cəhdi: bir az sonra yenidən cəhd edin",
        "ru": "Слишком много неудачных попыток входа: повторите позже",
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
    "receipt": {
        "en": "Receipt (keep it: it proves this report was recorded)",
        "az": "Qəbz (saxlayın: bu hesabatın qeydə alındığını sübut edir)",
        "ru": "Квитанция (сохраните: она доказывает, что сообщение записано)",
    },
    "queued": {
        "en": "Offline: saved on this phone, will be sent when the connection returns.",
        "az": "Oflayn: telefonda saxlanıldı, bağlantı bərpa olunanda göndəriləcək.",
        "ru": "Нет связи: сохранено на телефоне, отправится при восстановлении связи.",
    },
    "session_ended": {
        "en": "Your session has ended: log in again. Your reports are kept on this phone.",
        "az": "Sessiyanız bitdi: yenidən daxil olun. Hesabatlarınız telefonda saxlanılır.",
        "ru": "Сеанс завершён: войдите снова. Ваши отчёты сохранены на телефоне.",
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
    # camera watchers
    "camera_watch": {"en": "Camera watch", "az": "Kamera müşahidəsi", "ru": "Наблюдение по камере"},
    "window_count": {
        "en": "Voters counted in a window",
        "az": "Zaman aralığında sayılan seçicilər",
        "ru": "Избиратели за интервал",
    },
    "window_start": {"en": "Window start", "az": "Aralığın başlanğıcı", "ru": "Начало интервала"},
    "window_minutes": {
        "en": "Window length (minutes)",
        "az": "Aralığın uzunluğu (dəqiqə)",
        "ru": "Длина интервала (минут)",
    },
    "voters_counted": {
        "en": "Ballots seen going into the box",
        "az": "Qutuya salınan bülletenlər",
        "ru": "Бюллетеней опущено в урну",
    },
    "not_visible": {
        "en": "The ballot box could not be seen in this window (not zero voters)",
        "az": "Bu aralıqda seçki qutusu görünmürdü (sıfır seçici deyil)",
        "ru": "Урна в этот интервал не была видна (это не ноль избирателей)",
    },
    "camera_status": {
        "en": "Camera status or event",
        "az": "Kameranın vəziyyəti və ya hadisə",
        "ru": "Состояние камеры или событие",
    },
    "camera_events": {"en": "Events", "az": "Hadisələr", "ru": "События"},
    "note": {"en": "Note", "az": "Qeyd", "ru": "Примечание"},
    "my_filings": {"en": "My filings here", "az": "Buradakı qeydlərim", "ru": "Мои записи здесь"},
    "cam_online": {"en": "Online", "az": "Onlayn", "ru": "В сети"},
    "cam_offline": {"en": "Offline", "az": "Oflayn", "ru": "Не в сети"},
    "cam_audio_muted": {"en": "Audio muted", "az": "Səs söndürülüb", "ru": "Звук отключён"},
    "cam_turned_away": {
        "en": "Turned away from the box",
        "az": "Qutudan yayındırılıb",
        "ru": "Отвёрнута от урны",
    },
    "cam_covered": {"en": "Covered", "az": "Örtülüb", "ru": "Закрыта"},
    "cam_box_out_of_frame": {
        "en": "Ballot box out of frame",
        "az": "Seçki qutusu kadrda deyil",
        "ru": "Урна вне кадра",
    },
    "cam_frozen": {"en": "Picture frozen", "az": "Görüntü donub", "ru": "Изображение застыло"},
    "cam_black": {"en": "Black picture", "az": "Qara ekran", "ru": "Чёрный экран"},
    "cam_stuffing_seen": {
        "en": "Ballot stuffing seen",
        "az": "Bülleten doldurulması görüldü",
        "ru": "Замечен вброс",
    },
    "cam_group_arrival": {
        "en": "Group arrival",
        "az": "Qrupun gəlişi",
        "ru": "Прибытие группы",
    },
    "cam_angle_change": {
        "en": "Camera angle changed",
        "az": "Kameranın bucağı dəyişdi",
        "ru": "Изменён ракурс камеры",
    },
    "cam_box_opened": {"en": "Box opened", "az": "Qutu açıldı", "ru": "Урна открыта"},
    "cam_staff_at_box": {
        "en": "Staff at the box",
        "az": "Qutunun yanında işçi",
        "ru": "Член комиссии у урны",
    },
    "cam_camera_restarted": {
        "en": "Camera restarted",
        "az": "Kamera yenidən işə düşdü",
        "ru": "Камера перезапущена",
    },
    "cam_other": {"en": "Other", "az": "Digər", "ru": "Другое"},
    # the quick count (issue 19)
    "qc_station": {
        "en": "Quick-count station",
        "az": "Sürətli hesablama məntəqəsi",
        "ru": "Участок быстрого подсчёта",
    },
    "qc_station_hint": {
        "en": "Send the results as soon as the count ends: the protocol copy form, or an SMS "
        "R, your ID, #station, ballots in boxes, each candidate's votes in ballot order, total "
        "valid votes.",
        "az": "Sayım bitən kimi nəticələri göndərin: protokol surəti forması və ya SMS: R, ID-niz, "
        "#məntəqə, qutulardakı bülletenlər, bülletendəki sıra ilə hər namizədin səsləri, "
        "etibarlı səslərin cəmi.",
        "ru": "Отправьте результаты сразу после подсчёта: форма копии протокола или SMS: R, ваш "
        "ID, #участок, бюллетени в ящиках, голоса каждого кандидата в порядке бюллетеня, всего "
        "действительных голосов.",
    },
    "qc_title": {"en": "Quick count", "az": "Sürətli hesablama", "ru": "Быстрый подсчёт"},
    "qc_sample": {
        "en": "Registered sample",
        "az": "Qeydiyyatdan keçmiş seçmə",
        "ru": "Зарегистрированная выборка",
    },
    "qc_no_sample": {
        "en": "No registered sample for this election yet.",
        "az": "Bu seçki üçün hələ qeydiyyatdan keçmiş seçmə yoxdur.",
        "ru": "Для этих выборов ещё нет зарегистрированной выборки.",
    },
    "qc_import": {
        "en": "Import the sample",
        "az": "Seçməni idxal et",
        "ru": "Импортировать выборку",
    },
    "qc_sample_file": {
        "en": "Sample file (CSV)",
        "az": "Seçmə faylı (CSV)",
        "ru": "Файл выборки (CSV)",
    },
    "qc_sidecar_file": {
        "en": "Its sidecar (JSON)",
        "az": "Onun əlavə faylı (JSON)",
        "ru": "Его файл-спутник (JSON)",
    },
    "qc_response": {
        "en": "Response by stratum",
        "az": "Təbəqələr üzrə cavab",
        "ru": "Отклик по стратам",
    },
    "qc_stratum": {"en": "Stratum", "az": "Təbəqə", "ru": "Страта"},
    "qc_sampled": {"en": "Sampled", "az": "Seçmədə", "ru": "В выборке"},
    "qc_reported": {"en": "Reported", "az": "Məlumat verib", "ru": "Сообщили"},
    "qc_quarantined": {
        "en": "Quarantined (not counted)",
        "az": "Karantində (sayılmır)",
        "ru": "На карантине (не учитываются)",
    },
    "qc_arrivals": {
        "en": "Arrivals and the estimate over time",
        "az": "Daxilolmalar və zamanla qiymətləndirmə",
        "ru": "Поступление данных и оценка во времени",
    },
    "qc_until": {"en": "Until", "az": "Qədər", "ru": "До"},
    "qc_arrived": {"en": "Arrived", "az": "Daxil olub", "ru": "Поступило"},
    "qc_in_all": {"en": "In all", "az": "Cəmi", "ru": "Всего"},
    "qc_estimate": {"en": "Estimate", "az": "Qiymətləndirmə", "ru": "Оценка"},
    "qc_no_estimate": {
        "en": "No estimate yet (fewer than 2 counted reports).",
        "az": "Hələ qiymətləndirmə yoxdur (2-dən az sayılmış məlumat).",
        "ru": "Оценки пока нет (учтено меньше 2 сообщений).",
    },
    "qc_turnout": {"en": "Turnout", "az": "Seçici fəallığı", "ru": "Явка"},
    "qc_verdict": {
        "en": "Verdict against the official result",
        "az": "Rəsmi nəticə ilə müqayisədə qərar",
        "ru": "Вывод по сравнению с официальным итогом",
    },
    "qc_verdict_consistent": {
        "en": "consistent",
        "az": "uyğundur",
        "ru": "согласуется",
    },
    "qc_verdict_discrepancy": {
        "en": "discrepancy",
        "az": "uyğunsuzluq",
        "ru": "расхождение",
    },
    "qc_verdict_too_early": {
        "en": "too early to say",
        "az": "hələ tezdir",
        "ru": "пока рано судить",
    },
    "qc_early_late": {
        "en": "Early against late reporters",
        "az": "Erkən və gec məlumat verənlər",
        "ru": "Ранние и поздние сообщения",
    },
    "qc_off_sample": {
        "en": "Copies from stations outside the sample (not counted)",
        "az": "Seçmədən kənar məntəqələrin surətləri (sayılmır)",
        "ru": "Копии с участков вне выборки (не учитываются)",
    },
    "qc_replace": {
        "en": "Replace an unreachable station by its reserve",
        "az": "Əlçatmaz məntəqəni ehtiyat məntəqə ilə əvəz et",
        "ru": "Заменить недоступный участок резервным",
    },
    "qc_publish": {
        "en": "Publish the current estimate (signed, cannot be changed)",
        "az": "Cari qiymətləndirməni dərc et (imzalanır, dəyişdirilə bilməz)",
        "ru": "Опубликовать текущую оценку (подписывается, изменить нельзя)",
    },
    "qc_published": {
        "en": "Published estimates",
        "az": "Dərc edilmiş qiymətləndirmələr",
        "ru": "Опубликованные оценки",
    },
    "qc_problems": {"en": "Problems", "az": "Problemlər", "ru": "Проблемы"},
    "qc_refresh": {"en": "Refresh", "az": "Yenilə", "ru": "Обновить"},
    "recounts": {
        "en": "Windows to re-count (blind check)",
        "az": "Yenidən sayılacaq aralıqlar (kor yoxlama)",
        "ru": "Интервалы для повторного подсчёта (слепая проверка)",
    },
    "recounts_help": {
        "en": "Count these windows from the recording on your own: another watcher counted "
        "them too, and comparing the two counts measures how exact camera counts are.",
        "az": "Bu aralıqları yazıdan müstəqil sayın: onları başqa müşahidəçi də sayıb; iki "
        "sayın müqayisəsi kamera saylarının dəqiqliyini ölçür.",
        "ru": "Посчитайте эти интервалы по записи самостоятельно: их считал и другой "
        "наблюдатель, а сравнение двух подсчётов показывает точность подсчёта по камерам.",
    },
    "census_title": {
        "en": "Protocol photos",
        "az": "Protokol fotoları",
        "ru": "Фото протоколов",
    },
    "census_upload": {
        "en": "Upload protocol photos",
        "az": "Protokol fotolarını yüklə",
        "ru": "Загрузить фото протоколов",
    },
    "census_photos": {
        "en": "Photos (one sheet each)",
        "az": "Fotolar (hər biri bir protokol)",
        "ru": "Фото (по одному протоколу)",
    },
    "census_station_from_qr": {
        "en": "From the sheet's QR code",
        "az": "Protokolun QR kodundan",
        "ru": "По QR-коду протокола",
    },
    "census_layout": {
        "en": "Protocol form",
        "az": "Protokol forması",
        "ru": "Форма протокола",
    },
    "census_agreement": {
        "en": "Double-blind transcription",
        "az": "İkiqat kor köçürmə",
        "ru": "Двойной слепой ввод",
    },
    "census_sheets": {
        "en": "Sheets",
        "az": "Protokollar",
        "ru": "Протоколы",
    },
    "census_typing": {
        "en": "Being typed",
        "az": "Yazılır",
        "ru": "Вводятся",
    },
    "census_in_arbitration": {
        "en": "In arbitration",
        "az": "Arbitrajda",
        "ru": "На арбитраже",
    },
    "census_accepted": {
        "en": "Accepted",
        "az": "Qəbul edilib",
        "ru": "Приняты",
    },
    "census_share": {
        "en": "Accepted without arbitration",
        "az": "Arbitrajsız qəbul edilib",
        "ru": "Приняты без арбитража",
    },
    "census_none_accepted": {
        "en": "No sheet accepted yet.",
        "az": "Hələ heç bir protokol qəbul edilməyib.",
        "ru": "Пока ни один протокол не принят.",
    },
    "census_export": {
        "en": "Download the accepted sheets (CSV for pollwatch census check)",
        "az": "Qəbul edilmiş protokolları yüklə (pollwatch census check üçün CSV)",
        "ru": "Скачать принятые протоколы (CSV для pollwatch census check)",
    },
    "census_status": {
        "en": "Status",
        "az": "Vəziyyət",
        "ru": "Статус",
    },
    "census_typed": {
        "en": "Typed",
        "az": "Yazılıb",
        "ru": "Введено",
    },
    "census_findings": {
        "en": "Findings",
        "az": "Aşkar edilənlər",
        "ru": "Замечания",
    },
    "census_status_transcribing": {
        "en": "being typed",
        "az": "yazılır",
        "ru": "вводится",
    },
    "census_status_arbitration": {
        "en": "in arbitration",
        "az": "arbitrajda",
        "ru": "на арбитраже",
    },
    "census_status_accepted": {
        "en": "accepted",
        "az": "qəbul edilib",
        "ru": "принят",
    },
    "census_resolution_agreed": {
        "en": "both agreed",
        "az": "hər ikisi razılaşdı",
        "ru": "оба совпали",
    },
    "census_resolution_arbitrated": {
        "en": "arbitrated",
        "az": "arbitrajla",
        "ru": "по арбитражу",
    },
    "census_arbitrate": {
        "en": "Arbitrate",
        "az": "Arbitraj",
        "ru": "Арбитраж",
    },
    "census_transcribe": {
        "en": "Type protocol photos",
        "az": "Protokol fotolarını yaz",
        "ru": "Ввод протоколов по фото",
    },
    "census_blind_hint": {
        "en": "Type every number exactly as the photo shows it; leave a box empty if it cannot be read. Another volunteer types the same sheet without seeing your numbers.",
        "az": "Hər rəqəmi fotoda göründüyü kimi yazın; oxunmayan xananı boş qoyun. Başqa bir könüllü eyni protokolu sizin rəqəmlərinizi görmədən yazır.",
        "ru": "Вводите каждое число точно как на фото; нечитаемую клетку оставьте пустой. Другой волонтёр вводит тот же протокол, не видя ваших чисел.",
    },
    "census_nothing_to_type": {
        "en": "No sheet is waiting for you. Thank you.",
        "az": "Sizi gözləyən protokol yoxdur. Təşəkkürlər.",
        "ru": "Для вас нет протоколов. Спасибо.",
    },
    "census_first": {
        "en": "First volunteer",
        "az": "Birinci könüllü",
        "ru": "Первый волонтёр",
    },
    "census_second": {
        "en": "Second volunteer",
        "az": "İkinci könüllü",
        "ru": "Второй волонтёр",
    },
    "census_machine": {
        "en": "Machine reading (confidence)",
        "az": "Maşın oxunuşu (etibarlılıq)",
        "ru": "Машинное чтение (уверенность)",
    },
    "census_final": {
        "en": "Final",
        "az": "Yekun",
        "ru": "Итог",
    },
    "census_override_reason": {
        "en": "Reason, if you accept numbers that fail the sheet's checks or reject the sheet",
        "az": "Protokolun yoxlamalarından keçməyən rəqəmləri qəbul edirsinizsə və ya protokolu rədd edirsinizsə, səbəb",
        "ru": "Причина, если вы принимаете числа, не прошедшие проверки, или отклоняете протокол",
    },
    "census_accept": {
        "en": "Accept these numbers",
        "az": "Bu rəqəmləri qəbul et",
        "ru": "Принять эти числа",
    },
    "census_reject": {
        "en": "Reject the sheet (give the reason above)",
        "az": "Protokolu rədd et (səbəbi yuxarıda yazın)",
        "ru": "Отклонить протокол (укажите причину выше)",
    },
    "census_status_rejected": {"en": "rejected", "az": "rədd edilib", "ru": "отклонён"},
    "census_resolution_rejected": {
        "en": "by the arbiter",
        "az": "arbitr tərəfindən",
        "ru": "арбитром",
    },
    "line_registered": {
        "en": "Registered voters",
        "az": "Seçici siyahılarındakı seçicilər",
        "ru": "Избирателей в списке",
    },
    "line_ballots_received": {
        "en": "Ballots received",
        "az": "Alınmış bülletenlər",
        "ru": "Получено бюллетеней",
    },
    "line_ballots_issued_early": {
        "en": "Ballots issued to early voters",
        "az": "Vaxtından əvvəl verilmiş bülletenlər",
        "ru": "Выдано досрочно",
    },
    "line_ballots_issued_station": {
        "en": "Ballots issued at the station",
        "az": "Məntəqədə verilmiş bülletenlər",
        "ru": "Выдано в помещении",
    },
    "line_ballots_issued_mobile": {
        "en": "Ballots issued for the mobile box",
        "az": "Səyyar qutu üçün verilmiş bülletenlər",
        "ru": "Выдано вне помещения",
    },
    "line_ballots_cancelled": {
        "en": "Ballots cancelled",
        "az": "Ləğv edilmiş bülletenlər",
        "ru": "Погашено бюллетеней",
    },
    "line_ballots_mobile_box": {
        "en": "Ballots in the mobile boxes",
        "az": "Səyyar qutulardakı bülletenlər",
        "ru": "В переносных ящиках",
    },
    "line_ballots_stationary_box": {
        "en": "Ballots in the stationary boxes",
        "az": "Stasionar qutulardakı bülletenlər",
        "ru": "В стационарных ящиках",
    },
    "line_valid": {
        "en": "Valid ballots",
        "az": "Etibarlı bülletenlər",
        "ru": "Действительных бюллетеней",
    },
    "line_invalid": {
        "en": "Invalid ballots",
        "az": "Etibarsız bülletenlər",
        "ru": "Недействительных бюллетеней",
    },
    # station dossier: tally-sheet census and the observers' own turnout count
    "dossier_census": {
        "en": "Tally-sheet census",
        "az": "Protokol fotolarının sayımı",
        "ru": "Сбор фотографий протоколов",
    },
    "dossier_sheet": {"en": "Sheet", "az": "Protokol", "ru": "Протокол"},
    "dossier_photo_sha": {
        "en": "Photo SHA-256 (as received)",
        "az": "Fotonun SHA-256-sı (alındığı kimi)",
        "ru": "SHA-256 фотографии (в полученном виде)",
    },
    "dossier_open_photo": {"en": "Open the photo", "az": "Fotonu aç", "ru": "Открыть фото"},
    "dossier_line": {"en": "Line", "az": "Sətir", "ru": "Строка"},
    "dossier_on_sheet": {"en": "On the sheet", "az": "Protokolda", "ru": "В протоколе"},
    "dossier_official": {"en": "Official", "az": "Rəsmi", "ru": "Официально"},
    "dossier_difference": {
        "en": "Official minus sheet",
        "az": "Rəsmi rəqəm çıx protokol",
        "ru": "Официально минус протокол",
    },
    "census_sheet_above_official": {
        "en": "The official table gives fewer votes than the protocol signed at the station: votes were lost after the count.",
        "az": "Rəsmi cədvəl məntəqədə imzalanmış protokoldan az səs göstərir: səslər sayımdan sonra itib.",
        "ru": "В официальной таблице меньше голосов, чем в протоколе, подписанном на участке: голоса потеряны после подсчёта.",
    },
    "census_official_above_sheet": {
        "en": "The official table gives more votes than the protocol signed at the station: votes were added after the count.",
        "az": "Rəsmi cədvəl məntəqədə imzalanmış protokoldan çox səs göstərir: səslər sayımdan sonra əlavə edilib.",
        "ru": "В официальной таблице больше голосов, чем в протоколе, подписанном на участке: голоса добавлены после подсчёта.",
    },
    "census_line_differs": {
        "en": "A protocol line of the official table differs from the sheet signed at the station.",
        "az": "Rəsmi cədvəldə protokolun bir sətri məntəqədə imzalanmış protokoldan fərqlənir.",
        "ru": "Строка официальной таблицы отличается от протокола, подписанного на участке.",
    },
    "census_sheet_matches": {
        "en": "The accepted sheet matches the official figures (ballots stuffed before the count would be on both).",
        "az": "Qəbul edilmiş protokol rəsmi rəqəmlərlə üst-üstə düşür (sayımdan əvvəl atılmış bülletenlər hər ikisində olardı).",
        "ru": "Принятый протокол совпадает с официальными данными (вброшенные до подсчёта бюллетени были бы в обоих).",
    },
    "census_finding_conflict": {
        "en": "Two different sets of numbers were accepted for this station; settle them from the photos.",
        "az": "Bu məntəqə üçün iki fərqli rəqəm dəsti qəbul edilib; fotolara baxaraq həll edin.",
        "ru": "Для этого участка принято два разных набора цифр; разберитесь по фотографиям.",
    },
    "census_finding_arithmetic": {
        "en": "The sheet itself does not add up.",
        "az": "Protokolun özündə hesab uyğun gəlmir.",
        "ru": "Цифры в самом протоколе не сходятся.",
    },
    "census_finding_photo": {
        "en": "The sheet's photo was also filed for another station.",
        "az": "Protokolun fotosu başqa məntəqə üçün də təqdim edilib.",
        "ru": "Фотография протокола подана и для другого участка.",
    },
    "dossier_observed_turnout": {
        "en": "Turnout from the ground",
        "az": "Yerdən sayılan fəallıq",
        "ru": "Явка по подсчёту наблюдателей",
    },
    "dossier_voters_by_noon": {
        "en": "Voters counted by 12:00",
        "az": "Saat 12:00-a qədər sayılan seçicilər",
        "ru": "Насчитано избирателей к 12:00",
    },
    "dossier_voters_by_17": {
        "en": "Voters counted by 17:00",
        "az": "Saat 17:00-a qədər sayılan seçicilər",
        "ru": "Насчитано избирателей к 17:00",
    },
    "dossier_observer_ballots": {
        "en": "Ballots in the boxes, observer's count",
        "az": "Qutulardakı bülletenlər, müşahidəçinin sayı",
        "ru": "Бюллетеней в ящиках по подсчёту наблюдателя",
    },
    "dossier_protocol_ballots": {
        "en": "Ballots in the boxes, protocol",
        "az": "Qutulardakı bülletenlər, protokol",
        "ru": "Бюллетеней в ящиках по протоколу",
    },
    "dossier_gap": {
        "en": "Protocol minus observer",
        "az": "Protokol çıx müşahidəçi",
        "ru": "Протокол минус наблюдатель",
    },
    "dossier_tolerance": {"en": "tolerance", "az": "yol verilən fərq", "ru": "допуск"},
    "dossier_observer_count_note": {
        "en": "An observer's own count, not a camera: beyond the tolerance (the larger of 5 voters and 2 % of the count) it is testimony that the protocol's ballots were not all seen being cast.",
        "az": "Müşahidəçinin öz sayıdır, kamera deyil: yol verilən fərqdən (5 seçici və ya sayın 2 %-i, hansı böyükdürsə) artıq olduqda bu, protokoldakı bülletenlərin hamısının atıldığının görülmədiyinə dair ifadədir.",
        "ru": "Собственный подсчёт наблюдателя, не камера: сверх допуска (большее из 5 избирателей и 2 % подсчёта) это свидетельство того, что не все бюллетени протокола были опущены на глазах наблюдателя.",
    },
}


def translator(lang: str):
    lang = lang if lang in LANGS else "en"

    def t(key: str) -> str:
        texts = STRINGS.get(key)
        return key if texts is None else texts.get(lang, texts["en"])

    return t
