package dev.imgmatch.cli.bank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class BankFileTest {
  static final String PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
  static final String MD5 = "d41d8cd98f00b204e9800998ecf8427e";
  static final String SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  record Read(BankFile.Format format, List<BankFile.Row> rows, List<BankFile.Problem> problems) {}

  static Read read(String text, BankFile.Format f, String signalType) throws Exception {
    List<BankFile.Row> rows = new ArrayList<>();
    List<BankFile.Problem> problems = new ArrayList<>();
    BankFile.Format got = BankFile.read(new BufferedReader(new StringReader(text)), f, signalType, rows::add,
        problems::add);
    return new Read(got, rows, problems);
  }

  @Test
  void imgmatchCsvInAnyColumnOrderWithBadRowsReportedByLine() throws Exception {
    Read r = read("""
        id,tags,pdq,quality,md5
        work-1,terror;tx:1,%s,87,
        ,,,,%s
        bad,,zz,50,
        work-3,,%s,101,
        """.formatted(PDQ, MD5, PDQ), BankFile.Format.AUTO, null);
    assertThat(r.format()).isEqualTo(BankFile.Format.CSV);
    assertThat(r.rows()).hasSize(2);
    BankFile.Row first = r.rows().getFirst();
    assertThat(first.id()).isEqualTo("work-1");
    assertThat(HexFormat.of().formatHex(first.pdq())).isEqualTo(PDQ);
    assertThat(first.quality()).isEqualTo(87);
    assertThat(first.md5()).isNull();
    assertThat(first.tags()).containsExactly("terror", "tx:1");
    assertThat(first.line()).isEqualTo(2);
    assertThat(r.rows().get(1).id()).as("no id: the signal, typed").isEqualTo("md5:" + MD5);
    assertThat(r.problems()).extracting(BankFile.Problem::line).containsExactly(4, 5);
    assertThat(r.problems().get(0).reason()).contains("pdq 'zz' is not 64 hexadecimal digits");
    assertThat(r.problems().get(1).reason()).contains("quality 101 is outside 0-100");
  }

  @Test
  void whatTheHashCommandPrintsIsABankFileWithTheFileAsId() throws Exception {
    Read r = read("file,sha256,pdq,quality,md5\n\"a,b.jpg\",%s,%s,64,%s\n".formatted(SHA, PDQ, MD5),
        BankFile.Format.AUTO, null);
    assertThat(r.problems()).isEmpty();
    BankFile.Row row = r.rows().getFirst();
    assertThat(row.id()).isEqualTo("a,b.jpg");
    assertThat(row.quality()).isEqualTo(64);
    assertThat(HexFormat.of().formatHex(row.sha256())).isEqualTo(SHA);
    assertThat(HexFormat.of().formatHex(row.md5())).isEqualTo(MD5);
  }

  @Test
  void threatExchangeCsvKeepsImageSignalsAndSkipsTheRest() throws Exception {
    Read r = read("""
        collab,signal_type,signal_str,category,tags
        Sample Data,pdq,%s,POSITIVE_CLASS,media_type_photo tx_demo
        Sample Data,video_md5,%s,POSITIVE_CLASS,
        Sample Data,url,https://example.com,POSITIVE_CLASS,
        """.formatted(PDQ, MD5.toUpperCase()), BankFile.Format.AUTO, null);
    assertThat(r.format()).isEqualTo(BankFile.Format.TE_CSV);
    assertThat(r.rows()).hasSize(2);
    BankFile.Row pdq = r.rows().getFirst();
    assertThat(pdq.id()).isEqualTo("pdq:" + PDQ);
    assertThat(pdq.quality()).as("the list vouches for it").isEqualTo(100);
    assertThat(pdq.source()).isEqualTo("Sample Data");
    assertThat(pdq.tags()).containsExactly("category:POSITIVE_CLASS", "media_type_photo", "tx_demo");
    assertThat(HexFormat.of().formatHex(r.rows().get(1).md5())).isEqualTo(MD5);
    assertThat(r.problems()).singleElement().satisfies(p -> {
      assertThat(p.line()).isEqualTo(4);
      assertThat(p.reason()).contains("signal type 'url' is not an image hash");
    });
  }

  @Test
  void threatExchangeSignalFileWithAndWithoutTypes() throws Exception {
    Read typed = read("pdq " + PDQ + "\n\nsha256 " + SHA + "\n# a comment\n" + PDQ + "\n", BankFile.Format.AUTO,
        null);
    assertThat(typed.format()).isEqualTo(BankFile.Format.TE_FILE);
    assertThat(typed.rows()).extracting(BankFile.Row::id).containsExactly("pdq:" + PDQ, "sha256:" + SHA);
    assertThat(typed.problems()).singleElement().satisfies(p -> assertThat(p.reason()).contains("--signal-type"));
    Read bare = read(MD5 + "\n", BankFile.Format.TE_FILE, "photo_md5");
    assertThat(bare.rows()).singleElement().satisfies(row -> assertThat(row.id()).isEqualTo("md5:" + MD5));
  }

  @Test
  void aHeaderWithoutSignalColumnsIsAnErrorNotEmptyImport() {
    assertThatThrownBy(() -> read("name,path\nx,y\n", BankFile.Format.CSV, null))
        .hasMessageContaining("names none of the columns pdq, md5, sha256");
  }

  @Test
  void exportedLinesReadBackAsTheSameEntries() throws Exception {
    byte[] pdq = HexFormat.of().parseHex(PDQ);
    String line = BankFile.csvLine("id, with \"comma\"", pdq, 77, null, null, List.of("a", "b"));
    Read r = read(BankFile.CSV_HEADER + "\n" + line + "\n", BankFile.Format.AUTO, null);
    assertThat(r.problems()).isEmpty();
    assertThat(r.rows()).singleElement().satisfies(row -> {
      assertThat(row.id()).isEqualTo("id, with \"comma\"");
      assertThat(row.pdq()).isEqualTo(pdq);
      assertThat(row.quality()).isEqualTo(77);
      assertThat(row.tags()).containsExactly("a", "b");
    });
  }

  @Test
  void csvCellsFollowRfc4180Quoting() {
    assertThat(BankFile.csv("a,\"b,c\",\"d\"\"e\",")).containsExactly("a", "b,c", "d\"e", "");
    assertThatThrownBy(() -> BankFile.csv("\"open")).hasMessageContaining("not closed");
  }
}
