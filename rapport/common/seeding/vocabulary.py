"""Word lists for generated data: names from many cultures, places, roles, skills and the words recruiters write.

Lists are ordered from most to least common; the generator weights them by rank (Zipf), so a few surnames and
skills are everywhere and a long tail is rare, as in a real talent database.
"""

from dataclasses import dataclass


def words(text: str) -> list[str]:
    """A list from a space-separated string; '_' stands for a space inside one entry (``de_Jong``)."""
    return [w.replace("_", " ") for w in text.split()]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


@dataclass(frozen=True)
class Culture:
    key: str
    male: list[str]
    female: list[str]
    surnames: list[str]
    # Surnames that change with gender (Polish -ski/-ska, Russian -ov/-ova) are listed in their masculine form.
    feminine_endings: tuple[tuple[str, str], ...] = ()


CULTURES: dict[str, Culture] = {
    c.key: c
    for c in [
        Culture(
            "en_us",
            words(
                "James Michael Robert John David William Richard Joseph Thomas Christopher Daniel Matthew Anthony "
                "Andrew Joshua Ryan Kevin Brandon Tyler Jason Justin Eric Brian Nathan Kyle Aaron Ethan Noah Caleb"
            ),
            words(
                "Mary Jennifer Patricia Linda Elizabeth Jessica Sarah Emily Ashley Megan Olivia Hannah Madison "
                "Lauren Rachel Amanda Samantha Brittany Taylor Abigail Chloe Grace Natalie Victoria Kayla Morgan"
            ),
            words(
                "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson Martin "
                "Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green Adams "
                "Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart "
                "Morris Murphy Cook Rogers Reed Bailey Cooper Richardson Cox Howard Ward Peterson Gray Hughes Price "
                "Bennett Wood Barnes Ross Henderson Coleman Jenkins Perry Powell Long Patterson Foster Sanders"
            ),
        ),
        Culture(
            "en_gb",
            words(
                "Oliver George Harry Jack Jacob Charlie Thomas Oscar William James Alfie Callum Sean Conor Liam "
                "Rory Finlay Lewis Euan Aidan Ciaran Declan Owen Rhys Dylan"
            ),
            words(
                "Amelia Isla Ava Emily Sophie Grace Poppy Ella Lily Evie Freya Niamh Aoife Ciara Siobhan Orla "
                "Eilidh Rhiannon Imogen Harriet Charlotte Eleanor Beth Molly Erin"
            ),
            words(
                "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White "
                "Roberts Green Hall Wood Jackson Clarke Hughes Edwards Turner Hill Cooper Ward Morris Harrison Murphy "
                "Kelly O'Brien Byrne Ryan O'Sullivan Walsh McCarthy Doyle Kennedy Lynch Campbell MacDonald Stewart "
                "Reid Fraser Murray Patel Khan Ali Begum Lloyd Price Griffiths Owen"
            ),
        ),
        Culture(
            "de",
            words(
                "Lukas Leon Finn Jonas Paul Felix Maximilian Elias Noah Tim Jan Moritz Niklas Sebastian Tobias "
                "Jürgen Stefan Florian Matthias Andreas Philipp Fabian Julian Markus Thorsten"
            ),
            words(
                "Anna Lena Lea Hannah Mia Emma Sophie Marie Laura Julia Katharina Johanna Clara Sarah Jana Birgit "
                "Sabine Franziska Lisa Theresa Annika Carolin Nina Greta Ida"
            ),
            words(
                "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
                "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt "
                "Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber "
                "Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Vogel Friedrich Keller Günther Frank Berger"
            ),
        ),
        Culture(
            "fr",
            words(
                "Louis Gabriel Léo Raphaël Arthur Hugo Jules Lucas Adam Nathan Théo Mathis Antoine Julien Nicolas "
                "Maxime Alexandre Baptiste Thomas Romain Clément Quentin Benoît Pierre Étienne"
            ),
            words(
                "Emma Jade Louise Alice Chloé Léa Manon Inès Camille Sarah Juliette Zoé Élodie Margaux Claire "
                "Céline Mathilde Pauline Anaïs Océane Lucie Marine Amélie Charlotte Hélène"
            ),
            words(
                "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefebvre Leroy "
                "Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller "
                "Lefèvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand Gauthier Garcia "
                "Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu Gautier Masson"
            ),
        ),
        Culture(
            "es",
            words(
                "Hugo Martín Daniel Pablo Alejandro Álvaro Adrián Diego David Mateo Javier Sergio Carlos José "
                "Santiago Sebastián Andrés Luis Jorge Miguel Juan Fernando Ricardo Emilio Rodrigo"
            ),
            words(
                "Lucía Sofía María Martina Paula Julia Valeria Emma Daniela Carmen Elena Laura Ana Isabel Valentina "
                "Camila Gabriela Fernanda Ximena Andrea Mariana Alba Natalia Claudia Rocío"
            ),
            words(
                "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz "
                "Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos "
                "Gil Ramírez Serrano Blanco Molina Morales Suárez Ortega Delgado Castro Ortiz Rubio Marín Sanz Núñez "
                "Iglesias Medina Garrido Cortés Castillo Santos Lozano Guerrero Cano Prieto Méndez Cruz Flores "
                "Herrera Reyes Vargas Rojas Aguilar Mendoza"
            ),
        ),
        Culture(
            "pt",
            words(
                "Miguel Arthur Gael Heitor Theo Davi Gabriel Bernardo Samuel João Pedro Lucas Rafael Gustavo "
                "Thiago Matheus Felipe Leonardo Bruno Rodrigo Tiago Diogo André Vinícius Caio"
            ),
            words(
                "Helena Alice Laura Maria Valentina Heloísa Sophia Manuela Júlia Beatriz Mariana Ana Larissa Camila "
                "Fernanda Letícia Gabriela Isabela Bianca Luana Carolina Inês Joana Rita Leonor"
            ),
            words(
                "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins "
                "Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento Andrade Moreira Nunes "
                "Marques Machado Mendes Freitas Cardoso Ramos Gonçalves Santana Teixeira Araújo Correia Pinto Castro "
                "Monteiro Cavalcanti Azevedo"
            ),
        ),
        Culture(
            "it",
            words(
                "Leonardo Francesco Alessandro Lorenzo Mattia Andrea Gabriele Riccardo Tommaso Edoardo Marco Luca "
                "Giuseppe Davide Simone Matteo Federico Stefano Paolo Giovanni Nicola Emanuele Antonio Fabio"
            ),
            words(
                "Sofia Aurora Giulia Ginevra Vittoria Beatrice Alice Ludovica Emma Matilde Chiara Francesca Martina "
                "Sara Elisa Giorgia Valentina Federica Alessia Silvia Elena Ilaria Serena Roberta"
            ),
            words(
                "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De_Luca "
                "Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso "
                "Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola De_Santis "
                "D'Angelo Marchetti Parisi Villa Conte Ferraro Fabbri"
            ),
        ),
        Culture(
            "pl",
            words(
                "Jakub Antoni Jan Szymon Franciszek Filip Aleksander Mikołaj Wojciech Kacper Piotr Tomasz Łukasz "
                "Paweł Krzysztof Michał Marcin Adam Bartosz Grzegorz Maciej Dawid Kamil Mateusz Rafał"
            ),
            words(
                "Julia Zuzanna Zofia Hanna Maja Lena Alicja Maria Oliwia Amelia Katarzyna Agnieszka Magdalena "
                "Małgorzata Joanna Ewa Anna Aleksandra Natalia Karolina Monika Paulina Weronika Marta Dorota"
            ),
            words(
                "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak "
                "Dąbrowski Kozłowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk Kaczmarek Piotrowski "
                "Grabowski Zając Pawłowski Michalski Król Wieczorek Jabłoński Wróbel Nowakowski Majewski Olszewski "
                "Stępień Malinowski Jaworski Adamczyk Dudek Nowicki Pawlak Górski Witkowski Walczak Kowalewski "
                "Sikora Baran Rutkowski Michalak Szewczyk Ostrowski Tomaszewski Pietrzak Marciniak"
            ),
            (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")),
        ),
        Culture(
            "nl",
            words("Daan Sem Lucas Levi Finn Milan Jesse Bram Thijs Ruben Lars Stijn Joost Pieter Wouter Sander"),
            words("Emma Julia Mila Tess Sophie Zoë Sara Nora Fenna Eva Anouk Lotte Femke Sanne Iris Maaike"),
            words(
                "de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer de_Boer Mulder "
                "de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer de_Wit Dijkstra Smits de_Graaf "
                "van_der_Meer van_der_Linden Kok Jacobs de_Haan Vermeulen"
            ),
        ),
        Culture(
            "nordic",
            words("Lars Erik Anders Johan Karl Oskar Nils Magnus Henrik Søren Mikael Axel Emil Jonas Rasmus"),
            words("Anna Maria Karin Sara Emma Ingrid Linnea Astrid Freja Sofie Elin Maja Ebba Sigrid Ida"),
            words(
                "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson "
                "Pettersson Jonsson Hansen Johansen Olsen Nielsen Jensen Pedersen Berg Lindqvist Lindberg Holm "
                "Dahl Sørensen Bergström Lundgren Nyström Åberg Ek Sandberg"
            ),
        ),
        Culture(
            "ua",
            words("Oleksandr Dmytro Andriy Serhiy Maksym Ivan Mykola Yuriy Taras Bohdan Vitaliy Oleh Roman Artem"),
            words("Olena Iryna Nataliya Oksana Tetiana Yulia Kateryna Anastasia Sofiia Daria Viktoriia Alina Mariia"),
            words(
                "Shevchenko Kovalenko Bondarenko Tkachenko Kravchenko Melnyk Boyko Kovalchuk Oliynyk Lysenko "
                "Marchenko Rudenko Savchenko Petrenko Moroz Shevchuk Polishchuk Koval Kravets Pavlenko Levchenko"
            ),
        ),
        Culture(
            "tr",
            words("Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim Emre Burak Can Murat Yusuf Eren Kerem Ömer Oğuz"),
            words("Ayşe Fatma Zeynep Elif Emine Merve Esra Büşra Selin Deniz Ebru Özge Gamze Melike Sevgi Defne"),
            words(
                "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç Aslan Çetin "
                "Kara Koç Kurt Özkan Şimşek Polat Erdoğan Güneş Aksoy"
            ),
        ),
        Culture(
            "ar",
            words("Mohammed Ahmed Omar Ali Youssef Khalid Hassan Ibrahim Tariq Karim Hamza Faisal Samir Rami Nabil"),
            words("Fatima Aisha Mariam Layla Noor Huda Salma Yasmin Rania Dina Amira Leila Sara Hana Zainab"),
            words(
                "Haddad Khalil Mansour Nasser Saleh Hamdan Aziz Rahman Hussein Abdullah Ismail Mahmoud Farouk "
                "Sabbagh Karam Najjar El-Sayed Qureshi Bakr Al-Farsi Al-Mansouri Darwish Khoury Awad"
            ),
        ),
        Culture(
            "in",
            words(
                "Aarav Vivaan Aditya Arjun Rohan Rahul Amit Vikram Sanjay Karthik Siddharth Pranav Ankit Varun "
                "Nikhil Abhishek Rajesh Suresh Harsh Manish Akash"
            ),
            words(
                "Ananya Diya Priya Aanya Isha Kavya Neha Pooja Sneha Divya Shreya Meera Lakshmi Riya Nisha Anjali "
                "Deepika Swati Aishwarya Tanvi Sanjana"
            ),
            words(
                "Sharma Verma Gupta Singh Kumar Patel Reddy Iyer Nair Rao Mehta Shah Joshi Desai Kapoor Malhotra "
                "Chopra Banerjee Chatterjee Mukherjee Das Bose Pillai Menon Krishnan Agarwal Jain Pandey Mishra "
                "Yadav Srinivasan Subramanian Naidu Bhat Kulkarni"
            ),
        ),
        Culture(
            "zh",
            words("Wei Jun Hao Lei Yang Jie Tao Ming Chen Bo Qiang Yi Zhen Long Kai Hong Jian Feng"),
            words("Li Na Jing Fang Min Yan Xin Hui Ying Lan Mei Xiu Yu Ting Lin Xiaoling Qian Ruoxi"),
            words(
                "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Zheng Liang Xie "
                "Song Tang Han Feng Deng Cao Tan Lim Tan Ng Wong Chan Goh Teo"
            ),
        ),
        Culture(
            "ja",
            words("Haruto Yuto Sota Yuki Hayato Ren Takumi Kenji Hiroshi Daiki Sho Riku Kaito Takeshi Naoki Kenta"),
            words("Yui Sakura Hina Aoi Yuna Mio Rin Akari Haruka Yuka Emi Nanami Misaki Ayaka Mei Kaori"),
            words(
                "Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada Sasaki "
                "Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Yamazaki Mori Abe Ikeda Hashimoto Ishikawa Ogawa"
            ),
        ),
        Culture(
            "ko",
            words("Min-jun Seo-jun Do-yun Ji-ho Ha-joon Jae-won Hyun-woo Sung-min Dong-hyun Joon-young Tae-yang"),
            words("Seo-yeon Ji-woo Ha-eun Soo-ah Min-seo Ji-yoon Yu-na Eun-ji Hye-jin Su-bin Da-eun"),
            words("Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song Yoo Hong"),
        ),
        Culture(
            "vi",
            words("Minh Anh Huy Khang Bảo Đức Tuấn Hoàng Quang Long Nam Phong Thành Tiến Dũng"),
            words("Linh Ngọc Lan Hương Thảo Mai Trang Phương Hà Vy Nhung Hạnh Thu Trinh Yến"),
            words("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý"),
        ),
        Culture(
            "ng",
            words(
                "Chinedu Emeka Oluwaseun Tunde Ifeanyi Adebayo Chukwuma Obinna Kelechi Segun Babajide Uche Femi "
                "Kwame Kofi Yaw"
            ),
            words(
                "Ngozi Chiamaka Adaeze Funmilayo Aisha Blessing Chioma Yetunde Amara Folake Nneka Ifeoma Abena Ama "
                "Efua Zainab"
            ),
            words(
                "Okafor Okeke Adeyemi Ogunleye Nwosu Eze Okonkwo Balogun Adebayo Olawale Chukwu Obi Afolabi Onyeka "
                "Bello Ibrahim Mensah Owusu Boateng Asante Adeleke Okoro"
            ),
        ),
    ]
}


@dataclass(frozen=True)
class City:
    name: str
    region: str
    timezone: str
    area: str = ""  # a national prefix that makes phone numbers look local (US area codes and the like)


@dataclass(frozen=True)
class Country:
    code: str
    weight: float
    language: str
    cultures: tuple[tuple[str, float], ...]
    cities: tuple[City, ...]
    dialling: str  # the E.164 country code with the national prefix of mobile numbers
    digits: int  # how many subscriber digits follow `dialling` (and the city's area code)
    email_domains: tuple[str, ...] = ()


def _cities(spec: str) -> tuple[City, ...]:
    """'City|Region|Zone|area; …'"""
    out = []
    for part in spec.split(";"):
        fields = [f.strip() for f in part.split("|")]
        out.append(City(fields[0], fields[1], fields[2], fields[3] if len(fields) > 3 else ""))
    return tuple(out)


COUNTRIES: list[Country] = [
    Country(
        "US",
        22,
        "en",
        (("en_us", 70), ("es", 10), ("in", 7), ("zh", 5), ("ko", 2), ("vi", 2), ("ng", 2), ("ar", 2)),
        _cities(
            "New York|New York|America/New_York|212; San Francisco|California|America/Los_Angeles|415; "
            "Austin|Texas|America/Chicago|512; Seattle|Washington|America/Los_Angeles|206; "
            "Chicago|Illinois|America/Chicago|312; Boston|Massachusetts|America/New_York|617; "
            "Denver|Colorado|America/Denver|303; Atlanta|Georgia|America/New_York|404; "
            "Los Angeles|California|America/Los_Angeles|213; Raleigh|North Carolina|America/New_York|919"
        ),
        "+1",
        7,
        ("yahoo.com", "outlook.com", "icloud.com", "aol.com"),
    ),
    Country(
        "CA",
        4,
        "en",
        (("en_us", 60), ("fr", 15), ("zh", 8), ("in", 10), ("ko", 3), ("ar", 4)),
        _cities(
            "Toronto|Ontario|America/Toronto|416; Vancouver|British Columbia|America/Vancouver|604; "
            "Montréal|Quebec|America/Toronto|514; Calgary|Alberta|America/Edmonton|403; "
            "Ottawa|Ontario|America/Toronto|613"
        ),
        "+1",
        7,
        ("outlook.com", "yahoo.ca", "icloud.com"),
    ),
    Country(
        "GB",
        11,
        "en",
        (("en_gb", 80), ("in", 8), ("pl", 3), ("ng", 3), ("ar", 2), ("fr", 2), ("it", 2)),
        _cities(
            "London|England|Europe/London; Manchester|England|Europe/London; Edinburgh|Scotland|Europe/London; "
            "Bristol|England|Europe/London; Cambridge|England|Europe/London; Leeds|England|Europe/London; "
            "Belfast|Northern Ireland|Europe/London; Cardiff|Wales|Europe/London"
        ),
        "+447",
        9,
        ("outlook.com", "hotmail.co.uk", "btinternet.com", "icloud.com"),
    ),
    Country(
        "IE",
        2,
        "en",
        (("en_gb", 80), ("pl", 8), ("pt", 4), ("in", 4), ("es", 4)),
        _cities("Dublin|Leinster|Europe/Dublin; Cork|Munster|Europe/Dublin; Galway|Connacht|Europe/Dublin"),
        "+3538",
        8,
        ("eircom.net", "outlook.com"),
    ),
    Country(
        "DE",
        12,
        "de",
        (("de", 80), ("tr", 6), ("pl", 4), ("ua", 3), ("ar", 2), ("it", 2), ("in", 3)),
        _cities(
            "Berlin|Berlin|Europe/Berlin; München|Bayern|Europe/Berlin; Hamburg|Hamburg|Europe/Berlin; "
            "Frankfurt am Main|Hessen|Europe/Berlin; Köln|Nordrhein-Westfalen|Europe/Berlin; "
            "Stuttgart|Baden-Württemberg|Europe/Berlin; Leipzig|Sachsen|Europe/Berlin; "
            "Düsseldorf|Nordrhein-Westfalen|Europe/Berlin"
        ),
        "+4915",
        9,
        ("gmx.de", "web.de", "t-online.de", "posteo.de"),
    ),
    Country(
        "FR",
        7,
        "fr",
        (("fr", 85), ("ar", 6), ("pt", 3), ("es", 3), ("vi", 3)),
        _cities(
            "Paris|Île-de-France|Europe/Paris; Lyon|Auvergne-Rhône-Alpes|Europe/Paris; "
            "Toulouse|Occitanie|Europe/Paris; Nantes|Pays de la Loire|Europe/Paris; "
            "Bordeaux|Nouvelle-Aquitaine|Europe/Paris; Lille|Hauts-de-France|Europe/Paris; "
            "Marseille|Provence-Alpes-Côte d'Azur|Europe/Paris"
        ),
        "+336",
        8,
        ("orange.fr", "free.fr", "laposte.net", "sfr.fr"),
    ),
    Country(
        "ES",
        5,
        "es",
        (("es", 88), ("pt", 3), ("ar", 3), ("it", 3), ("ua", 3)),
        _cities(
            "Madrid|Comunidad de Madrid|Europe/Madrid; Barcelona|Cataluña|Europe/Madrid; "
            "Valencia|Comunidad Valenciana|Europe/Madrid; Sevilla|Andalucía|Europe/Madrid; "
            "Málaga|Andalucía|Europe/Madrid; Bilbao|País Vasco|Europe/Madrid"
        ),
        "+346",
        8,
        ("telefonica.net", "yahoo.es", "hotmail.es"),
    ),
    Country(
        "IT",
        4,
        "it",
        (("it", 90), ("ar", 3), ("ua", 3), ("in", 2), ("es", 2)),
        _cities(
            "Milano|Lombardia|Europe/Rome; Roma|Lazio|Europe/Rome; Torino|Piemonte|Europe/Rome; "
            "Bologna|Emilia-Romagna|Europe/Rome; Napoli|Campania|Europe/Rome; Firenze|Toscana|Europe/Rome"
        ),
        "+393",
        9,
        ("libero.it", "virgilio.it", "tiscali.it"),
    ),
    Country(
        "NL",
        4,
        "nl",
        (("nl", 80), ("tr", 5), ("ar", 4), ("in", 5), ("de", 3), ("pl", 3)),
        _cities(
            "Amsterdam|Noord-Holland|Europe/Amsterdam; Rotterdam|Zuid-Holland|Europe/Amsterdam; "
            "Utrecht|Utrecht|Europe/Amsterdam; Eindhoven|Noord-Brabant|Europe/Amsterdam; "
            "Den Haag|Zuid-Holland|Europe/Amsterdam"
        ),
        "+316",
        8,
        ("ziggo.nl", "kpnmail.nl", "xs4all.nl"),
    ),
    Country(
        "PL",
        5,
        "pl",
        (("pl", 92), ("ua", 8)),
        _cities(
            "Warszawa|Mazowieckie|Europe/Warsaw; Kraków|Małopolskie|Europe/Warsaw; "
            "Wrocław|Dolnośląskie|Europe/Warsaw; Gdańsk|Pomorskie|Europe/Warsaw; "
            "Poznań|Wielkopolskie|Europe/Warsaw; Łódź|Łódzkie|Europe/Warsaw"
        ),
        "+485",
        8,
        ("wp.pl", "o2.pl", "interia.pl", "onet.pl"),
    ),
    Country(
        "SE",
        3,
        "sv",
        (("nordic", 85), ("ar", 5), ("pl", 3), ("in", 4), ("de", 3)),
        _cities(
            "Stockholm|Stockholms län|Europe/Stockholm; Göteborg|Västra Götaland|Europe/Stockholm; "
            "Malmö|Skåne|Europe/Stockholm; Uppsala|Uppsala län|Europe/Stockholm"
        ),
        "+467",
        8,
        ("telia.com", "bredband.net"),
    ),
    Country(
        "UA",
        2,
        "uk",
        (("ua", 100),),
        _cities("Kyiv|Kyiv|Europe/Kyiv; Lviv|Lviv Oblast|Europe/Kyiv; Kharkiv|Kharkiv Oblast|Europe/Kyiv"),
        "+38067",
        7,
        ("ukr.net", "i.ua"),
    ),
    Country(
        "TR",
        2,
        "tr",
        (("tr", 100),),
        _cities("İstanbul|İstanbul|Europe/Istanbul; Ankara|Ankara|Europe/Istanbul; İzmir|İzmir|Europe/Istanbul"),
        "+905",
        9,
        ("hotmail.com", "yandex.com"),
    ),
    Country(
        "AE",
        2,
        "ar",
        (("ar", 45), ("in", 35), ("en_gb", 10), ("ng", 5), ("zh", 5)),
        _cities("Dubai|Dubai|Asia/Dubai; Abu Dhabi|Abu Dhabi|Asia/Dubai"),
        "+9715",
        8,
        ("hotmail.com", "outlook.com"),
    ),
    Country(
        "IN",
        8,
        "en",
        (("in", 100),),
        _cities(
            "Bengaluru|Karnataka|Asia/Kolkata; Mumbai|Maharashtra|Asia/Kolkata; Pune|Maharashtra|Asia/Kolkata; "
            "Hyderabad|Telangana|Asia/Kolkata; Chennai|Tamil Nadu|Asia/Kolkata; Gurugram|Haryana|Asia/Kolkata; "
            "Noida|Uttar Pradesh|Asia/Kolkata"
        ),
        "+919",
        9,
        ("rediffmail.com", "yahoo.co.in"),
    ),
    Country(
        "SG",
        2,
        "en",
        (("zh", 70), ("in", 15), ("en_gb", 10), ("vi", 5)),
        _cities("Singapore|Singapore|Asia/Singapore"),
        "+659",
        7,
        ("singnet.com.sg", "outlook.com"),
    ),
    Country(
        "JP",
        2,
        "ja",
        (("ja", 100),),
        _cities("Tokyo|Tokyo|Asia/Tokyo; Osaka|Osaka|Asia/Tokyo; Fukuoka|Fukuoka|Asia/Tokyo"),
        "+8190",
        8,
        ("yahoo.co.jp", "docomo.ne.jp"),
    ),
    Country(
        "KR",
        1.5,
        "ko",
        (("ko", 100),),
        _cities("Seoul|Seoul|Asia/Seoul; Busan|Busan|Asia/Seoul; Pangyo|Gyeonggi-do|Asia/Seoul"),
        "+8210",
        8,
        ("naver.com", "daum.net"),
    ),
    Country(
        "VN",
        1.5,
        "vi",
        (("vi", 100),),
        _cities(
            "Thành phố Hồ Chí Minh|Hồ Chí Minh|Asia/Ho_Chi_Minh; Hà Nội|Hà Nội|Asia/Ho_Chi_Minh; "
            "Đà Nẵng|Đà Nẵng|Asia/Ho_Chi_Minh"
        ),
        "+849",
        8,
        ("yahoo.com.vn", "outlook.com"),
    ),
    Country(
        "AU",
        3,
        "en",
        (("en_gb", 65), ("zh", 12), ("in", 10), ("vi", 5), ("it", 4), ("ko", 4)),
        _cities(
            "Sydney|New South Wales|Australia/Sydney; Melbourne|Victoria|Australia/Melbourne; "
            "Brisbane|Queensland|Australia/Brisbane; Perth|Western Australia|Australia/Perth"
        ),
        "+614",
        8,
        ("bigpond.com", "outlook.com"),
    ),
    Country(
        "BR",
        4,
        "pt-BR",
        (("pt", 90), ("it", 4), ("ja", 3), ("de", 3)),
        _cities(
            "São Paulo|São Paulo|America/Sao_Paulo|11; Rio de Janeiro|Rio de Janeiro|America/Sao_Paulo|21; "
            "Belo Horizonte|Minas Gerais|America/Sao_Paulo|31; Porto Alegre|Rio Grande do Sul|America/Sao_Paulo|51; "
            "Recife|Pernambuco|America/Recife|81; Florianópolis|Santa Catarina|America/Sao_Paulo|48"
        ),
        "+55",
        9,
        ("uol.com.br", "bol.com.br", "hotmail.com"),
    ),
    Country(
        "MX",
        3,
        "es",
        (("es", 100),),
        _cities(
            "Ciudad de México|Ciudad de México|America/Mexico_City|55; Guadalajara|Jalisco|America/Mexico_City|33; "
            "Monterrey|Nuevo León|America/Monterrey|81"
        ),
        "+52",
        8,
        ("hotmail.com", "prodigy.net.mx"),
    ),
    Country(
        "NG",
        2,
        "en",
        (("ng", 100),),
        _cities("Lagos|Lagos|Africa/Lagos; Abuja|Federal Capital Territory|Africa/Lagos; Ibadan|Oyo|Africa/Lagos"),
        "+23480",
        8,
        ("yahoo.com", "outlook.com"),
    ),
]

GLOBAL_EMAIL_DOMAINS = ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "proton.me"]

# Role families: titles, the department that hires them, and their skills from most to least common.
FAMILIES: dict[str, dict] = {
    "backend": {
        "weight": 15,
        "department": "Engineering",
        "titles": words(
            "Backend_Engineer Software_Engineer Python_Developer Java_Developer Platform_Engineer Go_Engineer "
            "Full-stack_Developer Ruby_on_Rails_Developer PHP_Developer .NET_Developer"
        ),
        "skills": lines(
            """
            Python
            SQL
            PostgreSQL
            Java
            Django
            Docker
            REST APIs
            Go
            Node.js
            Microservices
            Spring Boot
            Kotlin
            Redis
            AWS
            TypeScript
            Kafka
            GraphQL
            C#
            .NET
            MySQL
            FastAPI
            Flask
            Ruby
            Ruby on Rails
            PHP
            Laravel
            gRPC
            RabbitMQ
            Celery
            MongoDB
            Elasticsearch
            Scala
            Rust
            Elixir
            C++
            DynamoDB
            Erlang
            Clojure
            Haskell
            Event Sourcing
            Domain-Driven Design
            """
        ),
    },
    "frontend": {
        "weight": 10,
        "department": "Engineering",
        "titles": words(
            "Frontend_Engineer Frontend_Developer UI_Engineer Full-stack_Developer Web_Developer React_Developer"
        ),
        "skills": lines(
            """
            JavaScript
            TypeScript
            React
            CSS
            HTML
            Vue.js
            Next.js
            Angular
            Redux
            Tailwind CSS
            Sass
            Jest
            Node.js
            Webpack
            Vite
            Svelte
            Nuxt
            Cypress
            Playwright
            Storybook
            Accessibility
            Web Performance
            GraphQL
            Figma
            jQuery
            Vuex
            RxJS
            Three.js
            WebGL
            Design Systems
            """
        ),
    },
    "mobile": {
        "weight": 4,
        "department": "Engineering",
        "titles": words("iOS_Engineer Android_Developer Mobile_Engineer React_Native_Developer Flutter_Developer"),
        "skills": lines(
            """
            Swift
            Kotlin
            iOS
            Android
            SwiftUI
            React Native
            Flutter
            Dart
            Jetpack Compose
            Objective-C
            Xcode
            Firebase
            Java
            TypeScript
            App Store Optimization
            Core Data
            RxSwift
            """
        ),
    },
    "devops": {
        "weight": 7,
        "department": "Engineering",
        "titles": words(
            "DevOps_Engineer Site_Reliability_Engineer Cloud_Engineer Infrastructure_Engineer Security_Engineer "
            "Platform_Engineer Systems_Administrator Network_Engineer"
        ),
        "skills": lines(
            """
            Kubernetes
            Docker
            AWS
            Terraform
            Linux
            CI/CD
            Python
            Bash
            Google Cloud
            Azure
            Ansible
            Prometheus
            Grafana
            Helm
            GitHub Actions
            Jenkins
            Go
            Nginx
            Networking
            Security
            Observability
            OpenTelemetry
            Argo CD
            Istio
            Pulumi
            Vault
            PostgreSQL
            Incident Management
            Penetration Testing
            ISO 27001
            """
        ),
    },
    "data": {
        "weight": 9,
        "department": "Data",
        "titles": words(
            "Data_Scientist Data_Engineer Machine_Learning_Engineer Data_Analyst Analytics_Engineer "
            "BI_Developer Research_Scientist"
        ),
        "skills": lines(
            """
            Python
            SQL
            Pandas
            Machine Learning
            Statistics
            Spark
            scikit-learn
            PyTorch
            Airflow
            dbt
            TensorFlow
            Tableau
            Power BI
            Snowflake
            BigQuery
            NumPy
            Deep Learning
            NLP
            R
            A/B Testing
            Data Modeling
            ETL
            Databricks
            Looker
            Computer Vision
            LLMs
            MLOps
            Kafka
            Hadoop
            Excel
            """
        ),
    },
    "qa": {
        "weight": 3,
        "department": "Engineering",
        "titles": words("QA_Engineer Test_Automation_Engineer Quality_Assurance_Analyst SDET"),
        "skills": lines(
            """
            Test Automation
            Selenium
            Manual Testing
            Cypress
            Playwright
            Postman
            Java
            Python
            JMeter
            Performance Testing
            API Testing
            Jira
            TestRail
            Appium
            BDD
            """
        ),
    },
    "product": {
        "weight": 6,
        "department": "Product",
        "titles": words(
            "Product_Manager Product_Owner Product_Designer UX_Designer UX_Researcher UI_Designer Design_Lead"
        ),
        "skills": lines(
            """
            Product Management
            Figma
            Agile
            User Research
            Jira
            Roadmapping
            UX Design
            Scrum
            Prototyping
            Stakeholder Management
            Product Analytics
            Design Systems
            UI Design
            Wireframing
            Usability Testing
            OKRs
            Interaction Design
            Amplitude
            Mixpanel
            Sketch
            Adobe XD
            Service Design
            """
        ),
    },
    "sales": {
        "weight": 10,
        "department": "Sales",
        "titles": words(
            "Account_Executive Sales_Development_Representative Account_Manager Sales_Manager "
            "Business_Development_Manager Customer_Success_Manager Solutions_Engineer Partnerships_Manager"
        ),
        "skills": lines(
            """
            B2B Sales
            Salesforce
            Negotiation
            SaaS Sales
            Account Management
            Lead Generation
            HubSpot
            Business Development
            Cold Calling
            Pipeline Management
            Enterprise Sales
            Customer Success
            Solution Selling
            CRM
            Forecasting
            MEDDIC
            Partnerships
            Closing
            Outreach
            Key Account Management
            Public Speaking
            """
        ),
    },
    "marketing": {
        "weight": 7,
        "department": "Marketing",
        "titles": words(
            "Marketing_Manager Content_Marketer Growth_Marketer SEO_Specialist Product_Marketing_Manager "
            "Brand_Manager Performance_Marketing_Manager Community_Manager"
        ),
        "skills": lines(
            """
            Content Marketing
            SEO
            Google Analytics
            Social Media
            Copywriting
            Email Marketing
            Google Ads
            Marketing Automation
            Brand Strategy
            Growth Marketing
            Product Marketing
            HubSpot
            Demand Generation
            SEM
            Marketo
            Public Relations
            Event Marketing
            Community Management
            Video Production
            Adobe Photoshop
            """
        ),
    },
    "finance": {
        "weight": 5,
        "department": "Finance",
        "titles": words("Financial_Analyst Accountant Controller FP&A_Manager Finance_Manager Payroll_Specialist"),
        "skills": lines(
            """
            Excel
            Financial Modeling
            Accounting
            FP&A
            SAP
            Budgeting
            Forecasting
            IFRS
            US GAAP
            Audit
            Tax
            NetSuite
            Controlling
            Treasury
            Payroll
            Xero
            QuickBooks
            Power BI
            """
        ),
    },
    "people": {
        "weight": 4,
        "department": "People",
        "titles": words(
            "Recruiter Technical_Recruiter Talent_Acquisition_Partner HR_Business_Partner People_Operations_Manager "
            "Sourcer"
        ),
        "skills": lines(
            """
            Recruiting
            Sourcing
            Talent Acquisition
            Interviewing
            Onboarding
            Employer Branding
            HRIS
            Workday
            Employee Relations
            Compensation
            Greenhouse
            Learning & Development
            Labor Law
            Diversity & Inclusion
            Boolean Search
            """
        ),
    },
    "operations": {
        "weight": 7,
        "department": "Operations",
        "titles": words(
            "Customer_Support_Specialist Support_Engineer Operations_Manager Project_Manager Program_Manager "
            "Supply_Chain_Analyst Office_Manager Technical_Support_Engineer"
        ),
        "skills": lines(
            """
            Customer Support
            Project Management
            Zendesk
            Operations
            Process Improvement
            Intercom
            Supply Chain
            Logistics
            Vendor Management
            Lean
            Procurement
            Six Sigma
            ITIL
            Technical Support
            Help Desk
            Excel
            Confluence
            Jira
            """
        ),
    },
    "healthcare": {
        "weight": 2,
        "department": "Clinical",
        "titles": words("Registered_Nurse Clinical_Research_Associate Medical_Coder Clinical_Data_Manager"),
        "skills": lines(
            """
            Patient Care
            Clinical Research
            Nursing
            EMR
            Epic
            GCP
            Medical Coding
            ICD-10
            Pharmacovigilance
            Clinical Trials
            """
        ),
    },
}

GENERAL_SKILLS = lines(
    """
    Leadership
    Communication
    Mentoring
    Team Management
    Problem Solving
    Remote Work
    Cross-functional Collaboration
    Coaching
    Hiring
    Public Speaking
    Technical Writing
    Strategic Planning
    Git
    English
    German
    French
    Spanish
    Portuguese
    Mandarin
    Japanese
    Polish
    Arabic
    Hindi
    Italian
    Dutch
    """
)

SENIORITY = [("Junior ", 12), ("", 45), ("Senior ", 28), ("Lead ", 6), ("Staff ", 3), ("Principal ", 2)]

COMPANY_PREFIXES = words(
    "Northwind Bluefin Brightpath Cobalt Evergreen Foxglove Granite Harbor Ironclad Juniper Kestrel Lumen "
    "Meridian Nimbus Orbit Pinecone Quantum Redwood Silverline Tidal Umbra Vantage Willow Xenon Yellowtail "
    "Zephyr Atlas Beacon Cedar Driftwood Ember Fjord Glacier Helix Indigo Jetstream Kinetic Lighthouse Mosaic "
    "Nova Onyx Polar Quartz Riverbend Summit Terra Upland Vertex Wavelength"
)
COMPANY_SUFFIXES = words(
    "Labs Systems Analytics Health Logistics Bank Software Robotics Energy Media Games Insurance Retail Mobility "
    "Foods Capital Security Cloud Biotech Travel Learning Payments Networks Studios Commerce Consulting "
    "Manufacturing Pharma Telecom Ventures"
)

SOURCES = [
    ("LinkedIn", 30),
    ("Career site", 20),
    ("Referral", 12),
    ("Indeed", 10),
    ("Sourced", 8),
    ("Agency", 6),
    ("GitHub", 4),
    ("Event", 3),
    ("Glassdoor", 3),
    ("University", 2),
    ("Import", 2),
]

TAGS = words(
    "silver-medalist relocation remote-only visa-sponsorship top-talent passive boomerang open-source "
    "bootcamp-grad returner hot-lead part-time diversity-event conference-2025 needs-follow-up "
    "speaks-german speaks-french counter-offer-risk hiring-manager-favourite contractor"
)

POOLS = [
    ("Silver medalists", "Finalists we did not hire: first call for the next opening."),
    ("Frontend talent", "React, Vue and TypeScript people worth keeping warm."),
    ("Data & ML", "Data scientists, data engineers and ML engineers."),
    ("Sales leaders Europe", "Senior sales people across European markets."),
    ("Graduates 2026", "Early-career people for the graduate programme."),
]

REJECTION_NOTES = lines(
    """
    Strong profile, but another finalist had more hands-on experience.
    Great conversation; the team wants someone more senior for this role.
    Candidate accepted another offer before we could move forward.
    Not enough depth in the core stack yet; worth another look in a year.
    Salary expectations are well above the band for this opening.
    Needs visa sponsorship, which this role cannot offer.
    Could not reach the candidate after three attempts.
    """
)

CALL_OUTCOMES = ["connected", "left voicemail", "no answer", "scheduled follow-up"]

NOTE_TEMPLATES = lines(
    """
    Had a quick intro call. Interested in {role} roles and open to {workplace} work. Notice period: {notice}.
    Strong {skill} background; could be a good fit for the {team} team.
    Not looking right now. Happy to reconnect in {month}.
    Referred by a colleague from {company}. Clear communicator, very organised.
    Salary expectation around {salary}k {currency}. Prefers {workplace} work.
    **Follow up** in two weeks about the {role} opening.
    Met at {event}. We talked about {skill} and {skill2}.
    Portfolio reviewed: solid {skill} work, would like to see more {skill2}.
    Asked about relocation support to {city}. Sent the relocation FAQ.
    Feedback from the hiring manager: *strong on {skill}*, unsure about {skill2}.
    Prefers to be contacted by {channel} after 6 pm.
    Currently at {company}; leaving because of a reorganisation.
    Interested in the {team} team, not in {team2}. Keep for future openings.
    Took the take-home exercise seriously: clean {skill} code and good tests.
    Reference check done with a former manager at {company}: very positive.
    - Motivated by ownership\n- Wants a mentor\n- Open to a hybrid set-up in {city}
    Declined for now: just started a new job at {company}. Check back in {month}.
    Good culture add. Mentioned experience leading a small team using {skill}.
    """
)
CALL_TEMPLATES = lines(
    """
    Screening call: walked through the {role} role, compensation and next steps.
    Called to schedule the interview loop; prefers mornings.
    Discussed the offer details and a possible start date in {month}.
    Checked in after the final interview; still very interested.
    Left a voicemail about the {role} opening.
    Talked about {skill} projects at {company} and what they want next.
    """
)
MEETING_TEMPLATES = lines(
    """
    Coffee chat in {city}: background at {company}, interests in {skill}.
    Onsite visit with the {team} team; lunch with two engineers.
    Career fair conversation at {event}; shared the open {role} position.
    Video meeting with the hiring manager about the {role} role.
    """
)
EVENTS = words(
    "PyCon_Europe JSConf KubeCon SaaStr_Europa Web_Summit Data_Council a_local_meetup the_spring_career_fair "
    "React_Summit DevOpsDays"
)
MONTHS = words("January February March April May June July August September October November December")
NOTICE = ["two weeks", "one month", "two months", "three months", "immediately available"]
WORKPLACE = ["remote", "hybrid", "on-site"]

JOB_DESCRIPTION = """## About the role
We are looking for a {title} to join our {department} team in {location}. You will work closely with
{partner} and own meaningful problems from the first week.

## What you will do
- Ship and improve {skill1} work that thousands of customers rely on
- Collaborate with {department} colleagues on planning and reviews
- Mentor others and help us raise the bar on quality

## What we look for
- Solid experience with {skill1} and {skill2}
- Curiosity about {skill3}
- Clear written and spoken communication

## What we offer
Flexible hours, a learning budget, and {workplace} working.
"""
